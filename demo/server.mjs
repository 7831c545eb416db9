// npm run demo: serves the demo app on 127.0.0.1 with the two headers a page needs for shared memory and
// so for Frugal's threaded kernels (Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy:
// require-corp). The same pages under /plain/ are served without them (single-threaded kernels), and so is
// everything with --no-isolation.
//
//   node demo/server.mjs [--port N] [--no-isolation]      (port 0: any free port; the URL is printed)
//
// Routes: / → demo/, /frugal/ → the browser bundle (dist/browser, from npm run build), /data/ → the shipped
// Fashion-MNIST subset, /ort/ → onnxruntime-web's WebAssembly build from node_modules (its ESM entry, glue and
// .wasm only: the demo's latency comparison; nothing from a CDN), /empty.html → a blank page (for scripts and
// tests). Nothing else is served.
import { createServer } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ortDir = join(root, 'node_modules', 'onnxruntime-web', 'dist');
/** onnxruntime-web's files the page needs: the wasm-only ESM build, its Emscripten glue (also the worker) and .wasm. */
const ortFiles = new Set(['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']);
const mounts = [
  ['/frugal/', join(root, 'dist', 'browser')],
  ['/ort/', ortDir, (rel) => ortFiles.has(rel)],
  ['/data/', join(root, 'data', 'fashion-mnist-subset')],
  ['/', join(root, 'demo')],
];
const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.map': 'application/json',
  '.gz': 'application/gzip',
  '.svg': 'image/svg+xml',
  '.ts': 'text/plain; charset=utf-8',
};

let values;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: 'string', default: '8023' },
      'no-isolation': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  }));
} catch (e) {
  process.stderr.write(`${e.message}\nusage: node demo/server.mjs [--port N] [--no-isolation]\n`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write('usage: node demo/server.mjs [--port N] [--no-isolation]\n');
  process.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`--port must be an integer from 0 to 65535 (0: any free port), got ${values.port}\n`);
  process.exit(2);
}
if (!existsSync(join(root, 'dist', 'browser', 'frugal.js'))) {
  process.stderr.write('dist/browser/frugal.js is missing: run npm run build first (it writes the browser bundle)\n');
  process.exit(1);
}

/** The file a URL path names under one of the mounts, or null (never outside them). */
function fileFor(path) {
  for (const [prefix, dir, allowed] of mounts) {
    if (!path.startsWith(prefix)) continue;
    const rel = path.slice(prefix.length) || 'index.html';
    if (allowed && !allowed(rel)) return null;
    const file = resolve(dir, rel);
    if (!file.startsWith(dir + sep)) return null;
    return existsSync(file) && statSync(file).isFile() ? file : null;
  }
  return null;
}

const server = createServer((req, res) => {
  let path;
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    res.writeHead(400).end('bad path');
    return;
  }
  let isolated = !values['no-isolation'];
  if (path === '/plain' || path.startsWith('/plain/')) {
    isolated = false;
    path = path.slice('/plain'.length) || '/';
  }
  if (isolated) {
    // Without both, a page gets no SharedArrayBuffer, and Frugal runs its single-threaded kernels.
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
  }
  res.setHeader('Cache-Control', 'no-store');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405).end();
    return;
  }
  if (path === '/favicon.ico') {
    res.writeHead(204).end(); // no icon, and no 404 in the console
    return;
  }
  if (path === '/empty.html') {
    res
      .writeHead(200, { 'Content-Type': types['.html'] })
      .end('<!doctype html><meta charset="utf-8"><title>frugal</title>');
    return;
  }
  const file = fileFor(path);
  if (!file) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${path}`);
    return;
  }
  res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream' });
  res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
});
server.on('error', (e) => {
  process.stderr.write(`cannot serve on 127.0.0.1:${port}: ${e.message} (pick another with --port N)\n`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => {
  const url = `http://127.0.0.1:${server.address().port}/`;
  const how = values['no-isolation']
    ? 'not isolated: single-threaded'
    : `cross-origin isolated: threads; ${url}plain/ without isolation`;
  process.stdout.write(`Frugal demo on ${url} (${how})\n`);
});
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => server.close(() => process.exit(0)));
