// The in-browser tests' harness: headless Chromium (Debian's `chromium`, installed by .ci/run; never a downloaded
// browser) driven by playwright-core, pages served by the demo's own server (demo/server.mjs: the browser bundle
// under /frugal/, the demo under /, the same without cross-origin isolation under /plain/), and every console
// error and uncaught page error collected so a test can assert there were none.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** The repository (dist/test → ../..). */
export const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const executablePath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

/**
 * Why the browser tests cannot run here, or false. They also run once only: the second pass of `npm test`
 * (FRUGAL_THREADS=1 FRUGAL_SHARED=0 …) sets variables a browser page never sees, so it would repeat the first.
 */
export function browserSkip(): string | false {
  if (!executablePath) return 'chromium is not installed (apt-get install chromium; .ci/run does)';
  if (!existsSync(join(root, 'dist', 'browser', 'frugal.js')))
    return 'the browser bundle is not built (npm run build writes dist/browser)';
  const env = process.env;
  if (env.FRUGAL_SHARED === '0' || env.FRUGAL_THREADS === '1')
    return 'FRUGAL_* settings do not reach a browser page: the browser tests run in the first pass only';
  return false;
}

export interface DemoServer {
  /** Base URL, ending in '/'. */
  url: string;
  close(): Promise<void>;
}

/** Start `node demo/server.mjs --port 0` (any free port) and read the URL it prints. */
export async function startDemoServer(extra: string[] = []): Promise<DemoServer> {
  const child: ChildProcess = spawn(process.execPath, [join(root, 'demo', 'server.mjs'), '--port', '0', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '',
    err = '';
  child.stderr!.on('data', (c) => (err += c));
  const url = await new Promise<string>((res, rej) => {
    child.stdout!.on('data', (c) => {
      out += c;
      const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
      if (m) res(m[0]);
    });
    child.once('exit', (code) => rej(new Error(`demo server exited (${code}) before listening: ${err}`)));
  });
  return {
    url,
    close: () =>
      new Promise<void>((res) => {
        if (child.exitCode !== null || child.signalCode !== null) return res();
        child.once('exit', () => res());
        child.kill('SIGTERM');
      }),
  };
}

export interface OpenPage {
  page: Page;
  /** Console errors and uncaught exceptions seen so far (text). */
  errors: string[];
}

export interface Harness {
  server: DemoServer;
  browser: Browser;
  /** A fresh page (own context: downloads accepted) at url, relative to the server's base. */
  open(path: string): Promise<OpenPage>;
  close(): Promise<void>;
}

/** A demo server and a headless Chromium; close() ends both (and removes the browser's temporary files). */
export async function startHarness(serverArgs: string[] = []): Promise<Harness> {
  const server = await startDemoServer(serverArgs);
  const profile = mkdtempSync(join(tmpdir(), 'frugal-chromium-'));
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions'],
      downloadsPath: profile,
      timeout: 60_000,
    });
  } catch (e) {
    await server.close();
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  return {
    server,
    browser,
    async open(path: string) {
      const context = await browser.newContext({ acceptDownloads: true });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
      });
      page.on('pageerror', (e) => errors.push(`uncaught: ${e.stack ?? e.message}`));
      page.on('response', (r) => {
        if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`);
      });
      page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
      await page.goto(new URL(path, server.url).href);
      return { page, errors };
    },
    async close() {
      await browser.close().catch(() => {});
      await server.close();
      rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    },
  };
}
