import * as assert from 'node:assert/strict';
import { contentSecurityPolicy, escapeHtml, makeNonce, renderWebviewHtml, webviewPanelOptions } from '../../../src/extension/panels/webview-html';

const CSP_SOURCE = 'https://file+.vscode-resource.vscode-cdn.net';
const render = (): string => renderWebviewHtml({ kind: 'run', title: 'Factory Run', cspSource: CSP_SOURCE, asset: (f) => `${CSP_SOURCE}/ext/dist/webview/${f}` });
const cspOf = (html: string): string => /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1]?.replace(/&#39;/g, "'") ?? '';
const directives = (csp: string): Map<string, string> => new Map(csp.split(';').map((d) => d.trim()).filter(Boolean).map((d) => [d.split(' ')[0], d.slice(d.indexOf(' ') + 1)]));

describe('webview HTML helper', () => {
  it("SEC-21 every render has CSP default-src 'none', scripts only by nonce, no remote images or frames", () => {
    const d = directives(cspOf(render()));
    assert.equal(d.get('default-src'), "'none'");
    assert.match(d.get('script-src') ?? '', /^'nonce-[A-Za-z0-9+/=]{24}'$/);
    assert.equal(d.get('img-src'), "'none'");
    assert.equal(d.get('frame-src'), "'none'");
    assert.equal(d.get('connect-src'), "'none'");
    assert.ok(!(d.get('style-src') ?? '').includes('unsafe-inline'));
    assert.ok(![...d.values()].some((v) => v.includes('*') || v.includes('http:') || v.includes("'unsafe-eval'")));
  });

  it('SEC-21 the nonce is fresh per render (CSPRNG) and is the one on every script tag', () => {
    const originalRandom = Math.random;
    let mathRandomCalls = 0;
    Math.random = () => {
      mathRandomCalls++;
      return originalRandom();
    };
    try {
      const nonces = new Set<string>();
      for (let i = 0; i < 200; i++) {
        const html = render();
        const nonce = /'nonce-([^']+)'/.exec(cspOf(html))?.[1];
        assert.ok(nonce);
        const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
        assert.ok(scripts.length >= 1);
        for (const s of scripts) assert.ok(s.includes(`nonce="${nonce}"`), s);
        nonces.add(nonce);
      }
      assert.equal(nonces.size, 200);
      assert.equal(mathRandomCalls, 0, 'the nonce does not come from Math.random');
      assert.equal(Buffer.from(makeNonce(), 'base64').length, 16, '128 bits');
    } finally {
      Math.random = originalRandom;
    }
  });

  it('SEC-21 localResourceRoots is the bundle folder only, command URIs and forms off', () => {
    const bundle = { fsPath: '/ext/dist/webview', toString: () => 'file:///ext/dist/webview' };
    const o = webviewPanelOptions(bundle as never);
    assert.deepEqual(o.localResourceRoots, [bundle]);
    assert.equal(o.enableCommandUris, false);
    assert.equal(o.enableForms, false);
    assert.equal(o.enableScripts, true);
  });

  it('SEC-21 assets are loaded only from the webview resource origin, and the page has no inline script', () => {
    const html = render();
    for (const m of html.matchAll(/(?:src|href)="([^"]+)"/g)) assert.ok(m[1].startsWith(`${CSP_SOURCE}/ext/dist/webview/`), m[1]);
    assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>[^<]+<\/script>/.test(html), 'no inline script body');
    assert.ok(!/\son\w+=/.test(html), 'no inline event handlers');
    assert.equal(escapeHtml(`"><script>`), '&quot;&gt;&lt;script&gt;');
    assert.ok(contentSecurityPolicy('x', 'n').startsWith("default-src 'none'"));
  });
});
