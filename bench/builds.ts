// node dist/bench/builds.js DIR_A DIR_B [--rounds R] [--budget MS] [--out FILE] [--env-a K=V,…] [--env-b K=V,…]
// Frugal's own bench rows (npm run bench's Frugal column) for two built checkouts, each round one
// fresh process per build, alternating, so both builds see the same machine load. Prints the
// medians and B/A ratios; use it to show a change leaves speed as it was, or what it gained. --env-a / --env-b set
// environment variables of one side's processes: the same build twice with a switch flipped (FRUGAL_FUSE=0).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type Rows = Record<string, number>;

async function child(dir: string, budget: number): Promise<void> {
  const side = await import(pathToFileURL(resolve(dir, 'dist/bench/frugal-side.js')).href);
  const rows: Rows = {
    'sgemm 1024³ GFLOP/s': side.frugalGemm(1024, budget),
    'MLP training (batch 128) samples/s': side.frugalTrain('mlp', 128, budget),
    'CNN training (batch 64) samples/s': side.frugalTrain('cnn', 64, budget),
    'CNN inference (batch 1) samples/s': side.frugalInfer(1, budget),
    'CNN inference (batch 256) samples/s': side.frugalInfer(256, budget),
  };
  process.stdout.write(`${JSON.stringify(rows)}\n`);
  process.exit(0); // worker threads would keep the process alive
}

function runChild(dir: string, budget: number, vars: Record<string, string>): Rows {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [self, '--child', dir, '--budget', String(budget)], {
    encoding: 'utf8',
    env: { ...process.env, ...vars },
  });
  if (r.status !== 0) throw new Error(`bench of ${dir} failed: ${r.stderr.slice(-400)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const budget = opt('--budget', 1500);
/** K=V,K=V → { K: V }. */
const envOf = (name: string): Record<string, string> =>
  args.includes(name)
    ? Object.fromEntries(
        args[args.indexOf(name) + 1]
          .split(',')
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      )
    : {};
if (args[0] === '--child') {
  await child(args[1], budget);
} else {
  const [a, b] = args.filter((x, i) => !x.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
  if (!a || !b) {
    process.stderr.write(
      'usage: node dist/bench/builds.js DIR_A DIR_B [--rounds R] [--budget MS] [--out FILE] [--env-a K=V,…] ' +
        '[--env-b K=V,…]\n',
    );
    process.exit(2);
  }
  const rounds = opt('--rounds', 5);
  const runs: Record<'a' | 'b', Rows[]> = { a: [], b: [] };
  for (let r = 0; r < rounds; r++) {
    // Alternate which build goes first, so neither always gets the cooler machine.
    const order: ('a' | 'b')[] = r % 2 ? ['b', 'a'] : ['a', 'b'];
    for (const k of order) runs[k].push(runChild(k === 'a' ? a : b, budget, envOf(k === 'a' ? '--env-a' : '--env-b')));
    process.stderr.write(`round ${r + 1}/${rounds} done\n`);
  }
  const median = (v: number[]) => [...v].sort((x, y) => x - y)[v.length >> 1];
  const out = Object.keys(runs.a[0]).map((name) => {
    const ma = median(runs.a.map((x) => x[name])),
      mb = median(runs.b.map((x) => x[name]));
    return { name, a: ma, b: mb, ratio: mb / ma, aRuns: runs.a.map((x) => x[name]), bRuns: runs.b.map((x) => x[name]) };
  });
  for (const r of out)
    process.stderr.write(
      `${r.name.padEnd(38)} A ${r.a.toFixed(1).padStart(9)}  B ${r.b.toFixed(1).padStart(9)}  B/A ` +
        `×${r.ratio.toFixed(3)}\n`,
    );
  const envA = envOf('--env-a'),
    envB = envOf('--env-b');
  const result = {
    date: new Date().toISOString(),
    a: resolve(a),
    b: resolve(b),
    envA,
    envB,
    rounds,
    budget,
    rows: out,
  };
  if (args.includes('--out')) writeFileSync(args[args.indexOf('--out') + 1], JSON.stringify(result, null, 2));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
