import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress } from '../src/index.js';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return {
    out,
    s: {
      isTTY,
      write: (x: string) => {
        out.push(x);
        return true;
      },
    },
  };
}

test('progress: a redrawn bar on a terminal, plain lines (one per 10%) otherwise', () => {
  const tty = sink(true);
  const p = new Progress(tty.s, 32);
  p.update({ epoch: 1, epochs: 2, batch: 10, batches: 10, loss: 0.5, accuracy: 0.8, samplesPerSecond: 1000 });
  assert.match(tty.out[0], /^\r\x1b\[2Kepoch 1\/2 \[=+>\] 10\/10 loss 0\.5000 acc 80\.0% 1000 samples\/s ETA 0:00/);
  const plain = sink(false);
  const q = new Progress(plain.s, 32);
  for (let b = 1; b <= 100; b++)
    q.update({ epoch: 1, epochs: 1, batch: b, batches: 100, loss: 1, accuracy: 0.5, samplesPerSecond: 100 });
  assert.ok(plain.out.every((l) => l.endsWith('\n') && !l.includes('\r')));
  assert.ok(plain.out.length >= 10 && plain.out.length <= 12, `${plain.out.length} lines`);
  assert.match(plain.out[plain.out.length - 1], /batch 100\/100/);
});

test('fit() shows progress on a terminal stderr by default, and progress: false silences it', async () => {
  const { fit, buildModel, Adam, referenceMlp } = await import('../src/index.js');
  const train = {
    images: new Uint8Array(16 * 784).map((_, i) => (i * 37) % 256),
    labels: Uint8Array.from({ length: 16 }, (_, i) => i % 10),
    count: 16,
    sampleShape: [784],
    classes: 10,
  };
  const stderr = process.stderr as unknown as { isTTY?: boolean; write: (s: string) => boolean };
  const [tty, write] = [stderr.isTTY, stderr.write];
  const run = (progress?: false) => {
    const out: string[] = [];
    stderr.isTTY = true;
    stderr.write = (s: string) => (out.push(s), true);
    try {
      const model = buildModel(referenceMlp, 1);
      const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
      fit(model, { train, epochs: 1, batchSize: 8, optimizer, ...(progress === false ? { progress } : {}) });
    } finally {
      [stderr.isTTY, stderr.write] = [tty, write];
    }
    return out.join('');
  };
  assert.match(run(), /\r\x1b\[2Kepoch 1\/1 \[.*\] 2\/2 loss/);
  assert.equal(run(false), '');
});
