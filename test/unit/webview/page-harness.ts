/**
 * The webview bundle in real Chromium, outside VS Code: esbuild builds src/webview/main.ts exactly
 * as esbuild.js does, a loopback HTTP server serves it with the page our HTML helper renders (the
 * real CSP included), and `acquireVsCodeApi` is a small recorder injected before the page runs.
 * Used by the webview DOM tests and by bench/webview.bench.ts.
 */
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { renderWebviewHtml, type WebviewKind } from '../../../src/extension/panels/webview-html';
import type { HostMessage } from '../../../src/shared/protocol';
import { CHROMIUM_ARGS } from '../../e2e/harness/browser';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Builds the webview bundle into a temp folder (with the codicon assets) and returns the folder. */
export async function buildWebviewBundle(): Promise<string> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-webview-'));
  await esbuild.build({
    entryPoints: { main: path.join(ROOT, 'src', 'webview', 'main.ts') },
    outdir: out,
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    minify: true,
    logLevel: 'error',
  });
  for (const f of ['codicon.css', 'codicon.ttf']) fs.copyFileSync(path.join(ROOT, 'node_modules', '@vscode', 'codicons', 'dist', f), path.join(out, f));
  return out;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.html': 'text/html' };

/** Serves `dir` and the webview page on 127.0.0.1 (a port the OS picks). */
export class PageServer {
  private constructor(
    private readonly server: http.Server,
    readonly origin: string,
  ) {}

  static async start(dir: string): Promise<PageServer> {
    let origin = '';
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const kind = url.pathname === '/cost.html' ? 'cost' : url.pathname === '/run.html' ? 'run' : undefined;
      if (kind) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(pageHtml(kind, origin));
        return;
      }
      const file = path.join(dir, path.basename(url.pathname));
      if (!fs.existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      fs.createReadStream(file).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return new PageServer(server, origin);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The page exactly as the panel renders it, with the server's origin as `cspSource`. */
export function pageHtml(kind: WebviewKind, origin: string): string {
  return renderWebviewHtml({ kind, title: `Factory ${kind}`, cspSource: origin, asset: (f) => `${origin}/${f}` });
}

/** What the fake `acquireVsCodeApi` recorded in the page. */
export interface Recorded {
  posted: Array<{ type: string; [k: string]: unknown }>;
  state: unknown;
  cspViolations: string[];
  alerts: number;
}

/** Headless Chromium on Debian's binary with the e2e flags. */
export async function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}

/**
 * Opens the run or cost page with a fake VS Code API (and optional saved state) and waits for the
 * front-end's `ready`.
 */
export async function openWebview(browser: Browser, server: PageServer, kind: WebviewKind, savedState?: unknown): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  // A string, not a function: tsx would put its `__name` helper into a serialised function.
  await page.addInitScript(`(() => {
    const rec = { posted: [], state: ${JSON.stringify(savedState ?? null)}, cspViolations: [], alerts: 0 };
    window.__rec = rec;
    // Any script that got to run from log text would call this.
    window.alert = () => { rec.alerts++; };
    document.addEventListener('securitypolicyviolation', (e) => rec.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
    window.acquireVsCodeApi = () => ({
      postMessage: (m) => rec.posted.push(JSON.parse(JSON.stringify(m))),
      getState: () => rec.state,
      setState: (s) => { rec.state = s; },
    });
  })();`);
  await page.goto(`${server.origin}/${kind}.html`);
  await page.waitForFunction(() => (window as unknown as { __rec: Recorded }).__rec.posted.some((m) => m.type === 'ready'));
  return page;
}

/** Delivers host messages the way VS Code does (a `message` event on the window). */
export async function postToWebview(page: Page, ...messages: HostMessage[] | unknown[]): Promise<void> {
  await page.evaluate((ms) => {
    for (const m of ms) window.postMessage(m, '*');
  }, messages);
}

export async function recorded(page: Page): Promise<Recorded> {
  return page.evaluate(() => (window as unknown as { __rec: Recorded }).__rec);
}
