// The pool's guard against a busy machine (src/backend/late.ts): workers that keep starting late send the
// pool to the calling thread alone for a while; on time, it keeps its threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LateWorkers, LATE_CALLS, LATE_MS, MAX_SOLO_MS, RECOVER_CALLS, SOLO_MS, WINDOW } from '../src/backend/late.js';
import { WasmRuntime } from '../src/backend/wasm/runtime.js';
import { wasmBackend } from '../src/index.js';
import type { Pool } from '../src/backend/threads.js';

test('workers on time (woken ones take ~0.1 ms) keep their pool; so do bursts of fewer than LATE_CALLS late', () => {
  const w = new LateWorkers();
  let now = 0;
  for (let i = 0; i < 5000; i++) w.record(0.02 + (i % 7) * 0.1, (now += 1));
  // An idle virtual machine's late wake-ups: bursts of LATE_CALLS − 1, a window apart.
  for (let k = 0; k < 50; k++)
    for (let i = 0; i < WINDOW + LATE_CALLS - 1; i++) w.record(i < LATE_CALLS - 1 ? 5 : 0.1, (now += 1));
  assert.equal(w.trips, 0);
  assert.equal(w.tripped, false);
  assert.equal(w.solo(now), false);
});

test('LATE_CALLS late among WINDOW calls run the pool alone for SOLO_MS, doubling while the machine stays busy', () => {
  const w = new LateWorkers();
  let now = 1000;
  // A busy machine: late calls among on-time ones, every other call.
  for (let i = 0; i < 2 * LATE_CALLS - 2; i++) w.record(i % 2 ? 0.1 : LATE_MS * 3, now);
  assert.equal(w.tripped, false);
  w.record(0.1, now);
  w.record(LATE_MS * 3, now);
  assert.equal(w.tripped, true);
  assert.equal(w.solo(now + SOLO_MS - 1), true);
  assert.equal(w.solo(now + SOLO_MS + 1), false);
  assert.equal(w.tripped, false, 'the clock is read only while a solo period may be running');
  // Still busy at each probe: 2, 4, 8, … s, at most MAX_SOLO_MS.
  const periods: number[] = [];
  for (let k = 0; k < 8; k++) {
    now += 100_000;
    for (let i = 0; i < LATE_CALLS; i++) w.record(LATE_MS * 3, now);
    let p = 0;
    while (w.solo(now + p)) p += 1;
    periods.push(p);
  }
  assert.deepEqual(
    periods.slice(0, 4),
    [2, 4, 8, 16].map((x) => x * SOLO_MS),
  );
  assert.ok(periods.every((p) => p <= MAX_SOLO_MS) && periods.at(-1) === MAX_SOLO_MS);
  // A quiet stretch brings the period back to SOLO_MS.
  for (let i = 0; i < RECOVER_CALLS; i++) w.record(0.1, now);
  now += 100_000;
  for (let i = 0; i < LATE_CALLS; i++) w.record(LATE_MS * 3, now);
  assert.equal(w.solo(now + SOLO_MS - 1), true);
  assert.equal(w.solo(now + SOLO_MS + 1), false);
  assert.equal(w.trips, 10);
});

test('the runtime takes the pool’s advice at begin() and keeps it for the whole call', () => {
  const be = wasmBackend();
  if (!be) return;
  let advice = 2;
  const calls: string[] = [];
  const pool: Pool = {
    threads: 2,
    advise: () => advice,
    run: (fn) => void calls.push(fn),
    close() {},
  };
  const rt = new WasmRuntime(be.runtime.exports, be.runtime.memory, pool, be.runtime.shared);
  assert.equal(rt.threads, 2);
  advice = 1;
  assert.equal(rt.threads, 2, 'not before the next call begins');
  rt.begin();
  assert.equal(rt.threads, 1);
  advice = 2;
  rt.alloc(16);
  assert.equal(rt.threads, 1, 'a call sizes its scratch and runs its tasks on one count');
  rt.begin();
  assert.equal(rt.threads, 2);
  // Benchmarks report the share of calls the advice ran alone (threadUse): one of these two.
  assert.deepEqual([rt.calls, rt.soloCalls], [2, 1]);
  // A one-thread pool's calls count in neither.
  rt.pool = { ...pool, threads: 1, advise: () => 1 };
  rt.begin();
  assert.deepEqual([rt.calls, rt.soloCalls], [2, 1]);
});
