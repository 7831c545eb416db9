// Issue 25, point 6: what a worker does on the way to a shared store. Reports are written behind the objective
// (one write in flight, the rest coalesced), a report is the heartbeat only when the last one is a tenth of the
// timeout old, and dead workers are looked for at most that often.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReportWriter } from '../src/search/report-writer.js';
import {
  Study,
  medianPruner,
  openSqliteStorage,
  type EpochValue,
  type Pruner,
  type SearchStorage,
  type StudyDef,
} from '../src/node.js';

/** A storage whose report() waits until the test lets it go, and records each batch. */
function gated(answer: () => boolean | Error = () => true) {
  const batches: { values: EpochValue[]; worker?: string; beat?: boolean }[] = [];
  const gates: (() => void)[] = [];
  const storage = {
    report: (_trial: number, values: EpochValue[], worker?: string, beat?: boolean) => {
      batches.push({ values, worker, beat });
      return new Promise<boolean>((ok, no) =>
        gates.push(() => {
          const a = answer();
          if (a instanceof Error) no(a);
          else ok(a);
        }),
      );
    },
  } as unknown as SearchStorage;
  const open = async () => {
    while (!gates.length) await new Promise((r) => setImmediate(r));
    gates.shift()!();
  };
  return { storage, batches, open };
}

test('report writer: one write in flight, the reports that arrive meanwhile go together in the next', async () => {
  const g = gated();
  const w = new ReportWriter(g.storage, 7, 'w1');
  w.add(1, 0.1, false);
  w.add(2, 0.2, true);
  w.add(3, 0.3, false);
  assert.deepEqual(
    g.batches.map((b) => b.values.map((v) => v.epoch)),
    [[1]],
    'the first report is written at once, the next two wait for it',
  );
  const flushed = w.flush();
  await g.open();
  await g.open();
  await flushed;
  assert.deepEqual(
    g.batches.map((b) => [b.values.map((v) => v.epoch), b.worker, b.beat]),
    [
      [[1], 'w1', false],
      [[2, 3], 'w1', true],
    ],
    'epochs 2 and 3 in one write, which is the heartbeat because epoch 2 asked for one',
  );
  assert.equal(w.ended, false);
});

test('report writer: an ended trial is noticed; a failed write fails the next report, keeps its values', async () => {
  const ended = gated(() => false);
  const a = new ReportWriter(ended.storage, 1, 'w');
  a.add(1, 0.5, false);
  await ended.open();
  await a.flush();
  assert.equal(a.ended, true);

  const broken = gated(() => new Error('connection terminated'));
  const b = new ReportWriter(broken.storage, 1, 'w');
  b.add(1, 0.5, false);
  await broken.open();
  await assert.rejects(b.flush(), /connection terminated/);
  assert.throws(() => b.add(2, 0.6, false), /connection terminated/);
  assert.deepEqual(await b.settle(), [{ epoch: 1, value: 0.5 }], "the failed write's values go with the result");
});

test('report writer: settle waits for the write in flight and hands over the values still queued', async () => {
  const g = gated();
  const w = new ReportWriter(g.storage, 7, 'w1');
  w.add(1, 0.1, false);
  w.add(2, 0.2, false);
  w.add(3, 0.3, false);
  const settled = w.settle();
  await g.open();
  assert.deepEqual(await settled, [
    { epoch: 2, value: 0.2 },
    { epoch: 3, value: 0.3 },
  ]);
  assert.equal(g.batches.length, 1, 'the queued values were not written: the caller writes them with the result');
  assert.deepEqual(await w.settle(), [], 'handed over once');
});

const def: StudyDef = { study: 'beats', objective: { model: 'mlp' }, params: { x: { type: 'float', min: 0, max: 1 } } };

/** A SQLite store that counts the reports written as heartbeats and the looks for dead workers. */
function counted() {
  const s = openSqliteStorage(':memory:');
  const n = { reports: 0, beats: 0, staleChecks: 0 };
  const report = s.report.bind(s),
    requeueStale = s.requeueStale.bind(s);
  s.report = (trial, values, worker, beat) => {
    n.reports++;
    if (beat) n.beats++;
    return report(trial, values, worker, beat);
  };
  s.requeueStale = (...a) => (n.staleChecks++, requeueStale(...a));
  return { s, n };
}

async function run(timeoutMs: number, pruner?: Pruner) {
  const { s, n } = counted();
  const study = await Study.create(s, def);
  await study.enqueue(4);
  await study.work(
    async (t, ctx) => {
      for (let e = 1; e <= 5; e++) assert.equal(await ctx.report(e, e / 10), 'continue');
      return { value: 0.5 };
    },
    { worker: 'w', heartbeatTimeoutMs: timeoutMs, idleMs: 1, pruner },
  );
  const ts = await study.trials();
  assert.deepEqual(
    ts.map((t) => [t.state, t.values]),
    ts.map(() => ['complete', [0.1, 0.2, 0.3, 0.4, 0.5]]),
    'every value is written before the trial ends',
  );
  await s.close();
  return n;
}

test('study: a report is a heartbeat only when the last is a tenth of the timeout old; stale checks too', async () => {
  const never = await run(3_600_000);
  assert.equal(never.beats, 0, 'within an hour of its claim a trial needs no heartbeat');
  assert.equal(never.reports, 0, 'no pruner reads the values and no heartbeat is due: they go with the result');
  // A pruner reads the study at each report: every report is written first (4 trials × 5 epochs).
  const read = await run(3_600_000, medianPruner({ minTrials: 1000 }));
  assert.equal(read.reports, 20);
  assert.equal(read.beats, 0);
  assert.equal(never.staleChecks, 1, 'one look for dead workers, at the start');
  const always = await run(0);
  assert.equal(always.beats, always.reports, 'with no time to spare every write is a heartbeat');
  assert.ok(always.staleChecks >= 5, `a look before each claim (${always.staleChecks})`);
});

test('study: a report that is a heartbeat goes out before the objective trains on, not an epoch later', async () => {
  const s = openSqliteStorage(':memory:');
  const sent: number[] = [],
    trained: number[] = [];
  const report = s.report.bind(s);
  // As a connection pool does: the query goes out on the next tick.
  s.report = (...a) =>
    new Promise((ok, no) =>
      process.nextTick(() => {
        sent.push(performance.now());
        report(...a).then(ok, no);
      }),
    );
  const study = await Study.create(s, { ...def, study: 'tick' });
  await study.enqueue(1);
  await study.work(
    async (_t, ctx) => {
      for (let e = 1; e <= 3; e++) {
        await ctx.report(e, e / 10);
        trained.push(performance.now());
        const end = Date.now() + 30; // the next epoch, synchronous as training is
        while (Date.now() < end);
      }
      return { value: 0.3 };
    },
    // Every report a heartbeat (without a pruner the others wait for one, or for the result).
    { worker: 'w', idleMs: 1, heartbeatTimeoutMs: 0 },
  );
  assert.ok(sent.length >= 1);
  assert.ok(sent[0] <= trained[0], `epoch 1's write went out at ${sent[0]}, after training resumed at ${trained[0]}`);
  await s.close();
});
