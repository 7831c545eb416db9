// Why a file could not be read, in plain words: the one place that maps Node's error codes (ENOENT, EACCES,
// EISDIR, ...) to the reason a message shows, so every "cannot read X: REASON" says the same thing.

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
};

/** Why a read failed (`e` from readFileSync, statSync, ...): plain words for known codes, else its message. */
export function fileReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code && code in REASONS) return REASONS[code];
  return code ?? (e instanceof Error ? e.message : String(e));
}
