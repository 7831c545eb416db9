// The library in a browser: headless Chromium (Debian's `chromium`, installed by .ci/run) loads
// dist/src/index.js from a local server on 127.0.0.1 that sends the cross-origin isolation
// headers shared memory needs; the page runs threaded kernels on Web Workers, checks them
// against the reference backend and posts what it found back to the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url))); // the repository (dist/test → ../..)
const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const types: Record<string, string> = {
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.html': 'text/html',
  '.map': 'application/json',
};

// The page: default threads (navigator.hardwareConcurrency), a GEMM and a direct convolution big
// enough to be split over the workers, the reference CNN's forward pass; each against the reference.
const page = `<!doctype html><meta charset="utf-8"><title>frugal</title><script type="module">
const post = (r) => fetch('/result', { method: 'POST', body: JSON.stringify(r) });
try {
  const F = await import('/dist/src/index.js');
  const be = F.wasmBackend(), ref = F.reference, rng = new F.Rng(1);
  const rand = (n) => Float32Array.from({ length: n }, () => rng.normal());
  const maxErr = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
  const [M, N, K] = [160, 170, 180], A = rand(M * K), B = rand(K * N);
  const c1 = new Float32Array(M * N), c2 = new Float32Array(M * N);
  be.gemm(false, false, M, N, K, A, B, c1, false); ref.gemm(false, false, M, N, K, A, B, c2, false);
  const g = { B: 8, C: 3, H: 20, W: 20, Co: 16, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1,
    OH: 20, OW: 20 };
  const x = rand(8 * 3 * 400), w = rand(16 * 27);
  const o1 = new Float32Array(8 * 16 * 400), o2 = new Float32Array(8 * 16 * 400);
  be.conv2dForward(x, w, null, g, o1); ref.conv2dForward(x, w, null, g, o2);
  const model = F.buildModel(F.referenceCnn, 1), input = F.Tensor.randn([4, 1, 28, 28], rng);
  model.eval();
  const y = F.noGrad(() => model.forward(input));
  F.setBackend(ref);
  const yRef = F.noGrad(() => model.forward(input));
  F.setBackend(null);
  await post({ ok: true, isolated: globalThis.crossOriginIsolated, cores: navigator.hardwareConcurrency,
    threads: F.getThreads(), backend: F.backendName(),
    gemmErr: maxErr(c1, c2), convErr: maxErr(o1, o2), logits: y.shape, modelErr: maxErr(y.data, yRef.data) });
} catch (e) { await post({ ok: false, error: String(e && e.stack || e) }); }
</script>`;

/** Serve the page (with or without the cross-origin isolation headers) to headless Chromium; what the page posted back.
 * */
async function runPage(isolated: boolean): Promise<Record<string, unknown>> {
  let resolveResult!: (r: Record<string, unknown>) => void;
  const result = new Promise<Record<string, unknown>>((res) => {
    resolveResult = res;
  });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // Cross-origin isolation: without these two headers a page gets no SharedArrayBuffer.
    if (isolated) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    if (req.method === 'POST' && path === '/result') {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        res.end('ok');
        resolveResult(JSON.parse(body));
      });
      return;
    }
    if (path === '/' || path === '/index.html') {
      res.setHeader('Content-Type', 'text/html');
      res.end(page);
      return;
    }
    const file = resolve(root, '.' + path);
    // Only the built library and kernels are served.
    if (
      !(file.startsWith(join(root, 'dist') + '/') || file.startsWith(join(root, 'build') + '/')) ||
      !existsSync(file) ||
      !statSync(file).isFile()
    ) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('Content-Type', types[extname(file)] ?? 'application/octet-stream');
    res.end(readFileSync(file));
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  const port = (server.address() as { port: number }).port;
  const profile = mkdtempSync(join(tmpdir(), 'frugal-chromium-'));
  const browser = spawn(
    chromium!,
    [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-extensions',
      `--user-data-dir=${profile}`,
      `http://127.0.0.1:${port}/`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  let stderr = '';
  browser.stderr!.on('data', (c) => {
    stderr += c;
  });
  const exited = new Promise<Record<string, unknown>>((res) =>
    browser.on('exit', (code) =>
      res({ ok: false, error: `chromium exited (${code}) before the page reported: ${stderr.slice(-2000)}` }),
    ),
  );
  const timer = new Promise<Record<string, unknown>>((res) =>
    setTimeout(() => res({ ok: false, error: `no result in 90 s: ${stderr.slice(-2000)}` }), 90_000).unref(),
  );
  try {
    return await Promise.race([result, exited, timer]);
  } finally {
    const gone = new Promise<void>((res) => {
      if (browser.exitCode !== null || browser.signalCode !== null) res();
      else browser.once('exit', () => res());
    });
    // Chromium's renderer and helper processes share its process group: end them all.
    try {
      process.kill(-browser.pid!, 'SIGKILL');
    } catch {
      browser.kill('SIGKILL');
    }
    await Promise.race([gone, new Promise<void>((res) => setTimeout(res, 5000).unref())]);
    server.close();
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    } catch {
      /* a helper still writing: the temporary profile stays */
    }
  }
}

function checkKernels(r: Record<string, unknown>): void {
  assert.equal(r.ok, true, String(r.error));
  assert.match(String(r.backend), /^wasm-simd/, 'the WebAssembly kernels loaded in the browser');
  assert.ok((r.gemmErr as number) < 1e-3, `gemm max error ${r.gemmErr}`);
  assert.ok((r.convErr as number) < 1e-4, `conv max error ${r.convErr}`);
  assert.deepEqual(r.logits, [4, 10]);
  assert.ok((r.modelErr as number) < 1e-4, `reference CNN logits differ from the reference backend's by ${r.modelErr}`);
}

const skip = !chromium
  ? 'chromium is not installed (apt-get install chromium; .ci/run does)'
  : !existsSync(join(root, 'build', 'kernels-mt.wasm'))
    ? 'the kernels are not built (npm run build)'
    : false;

test(
  'in a browser (headless Chromium), cross-origin isolated: threaded WebAssembly kernels on Web Workers equal ' +
    'the reference',
  { timeout: 120_000, skip },
  async () => {
    const r = await runPage(true);
    checkKernels(r);
    assert.equal(r.isolated, true, 'the page is cross-origin isolated');
    // Web Workers in use: as many threads as the browser reports cores (this machine has 2).
    assert.equal(r.threads, r.cores, 'threads = navigator.hardwareConcurrency');
    if ((r.cores as number) > 1) assert.ok((r.threads as number) > 1, 'more than one thread');
  },
);

test(
  'in a browser without cross-origin isolation: no shared memory, so the single-threaded kernels, still equal to ' +
    'the reference',
  { timeout: 120_000, skip },
  async () => {
    const r = await runPage(false);
    checkKernels(r);
    assert.equal(r.isolated, false);
    assert.equal(r.threads, 1);
  },
);
