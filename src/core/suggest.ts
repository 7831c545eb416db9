// Did-you-mean suggestions for a misspelt key, flag or command: the valid name nearest by edit distance.
// Browser-safe (pure string arithmetic); used by model specs, search spaces and the CLI.

/**
 * Edit distance with transpositions (optimal string alignment): the fewest single-character insertions,
 * deletions, substitutions and swaps of two neighbours from a to b ("trian" is 1 from "train").
 */
export function editDistance(a: string, b: string): number {
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j], prev2[j - 2] + 1);
    }
    prev2 = prev;
    prev = row;
  }
  return prev[b.length];
}

/**
 * The valid name nearest to `word` (case-insensitive), or undefined when none is close: within a third of the
 * longer name's length (at least 1 edit), so "mn" suggests "min" but "x" suggests nothing. `aliases` maps other
 * libraries' names for the same thing (lower case) to ours and wins over distance.
 */
export function nearestName(
  word: string,
  valid: readonly string[],
  aliases: Record<string, string> = {},
): string | undefined {
  const alias = aliases[word.toLowerCase()];
  if (alias && valid.includes(alias)) return alias;
  return valid
    .map((v) => [v, editDistance(word.toLowerCase(), v.toLowerCase())] as const)
    .filter(([v, d]) => d <= Math.max(1, Math.floor(Math.max(word.length, v.length) / 3)))
    .sort((a, b) => a[1] - b[1])[0]?.[0];
}

/** " (did you mean 'x'?)" when a valid name is near `word`, else "". */
export function didYouMean(word: string, valid: readonly string[], aliases?: Record<string, string>): string {
  const near = nearestName(word, valid, aliases);
  return near === undefined ? '' : ` (did you mean '${near}'?)`;
}
