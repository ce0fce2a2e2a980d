import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { Browser } from 'playwright-core';
import type { HostMessage, RunSnapshot } from '../../../src/shared/protocol';
import { requireChromium } from '../../support/engines';
import { buildWebviewBundle, launchChromium, openWebview, PageServer, postToWebview } from './page-harness';

const snapshot: RunSnapshot = {
  runId: '20261206_075931_gate_174982c', ticketId: 'gate', taskName: 'Gate', status: 'PASS', timestamp: null, durationSeconds: 0.2,
  timeline: [
    { name: 'PLAN', status: 'SKIPPED', startedAt: null, durationMs: null, steps: [], detail: 'not part of a Gate run' },
    { name: 'DO', status: 'SKIPPED', startedAt: null, durationMs: null, steps: [], detail: 'not part of a Gate run' },
    { name: 'CHECK', status: 'PASS', startedAt: null, durationMs: 1500, steps: [], detail: 'Gate from cache' },
    { name: 'ADJUST', status: 'SKIPPED', startedAt: null, durationMs: null, steps: [], detail: 'not part of a Gate run' },
  ],
  manifest: [], kpi: [], gates: [], scopeViolations: [], audit: null, cost: { spentUsd: null, budgetUsd: 1 }, note: null,
};

/**
 * Issue 20 item 4: the Gate log's own status emoji (`ALL GATES PASS ✅`, `GATE FAIL ❌`) showed as
 * empty boxes (the log's monospace font has no such glyph). They are drawn as the panel's codicons;
 * the timeline's phases say what they did.
 */
describe('webview: status glyphs every font can draw (Chromium, the real bundle)', function () {
  this.timeout(60_000);
  let browser: Browser | undefined;
  let server: PageServer | undefined;
  let dir: string;

  before(async function () {
    const chromium = requireChromium(this);
    dir = await buildWebviewBundle();
    server = await PageServer.start(dir);
    browser = await launchChromium(chromium);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('✅ and ❌ in a log line become the pass/error codicons (labelled), the rest stays text; the phases show their detail', async () => {
    const page = await openWebview(browser!, server!, 'run');
    await postToWebview(page, { type: 'run.snapshot', run: snapshot } satisfies HostMessage, { type: 'log.reset', stream: 'gate', title: 'Gate log' } satisfies HostMessage);
    await postToWebview(page, { type: 'log.append', stream: 'gate', text: 'Status: ALL GATES PASS \u2705\nStatus: GATE FAIL \u274C (failed at: fast)\n' } satisfies HostMessage);
    await page.waitForSelector('.log-row .codicon-error');
    const rows = await page.evaluate(() =>
      Array.from(document.querySelectorAll('.log-row')).map((r) => ({ text: r.textContent, icons: Array.from(r.querySelectorAll('.codicon')).map((i) => `${i.className} ${i.getAttribute('aria-label')}`) })),
    );
    assert.deepEqual(rows.slice(0, 2), [
      { text: 'Status: ALL GATES PASS ', icons: ['codicon codicon-pass log-glyph st-pass PASS'] },
      { text: 'Status: GATE FAIL  (failed at: fast)', icons: ['codicon codicon-error log-glyph st-fail FAIL'] },
    ]);
    assert.ok(!rows.some((r) => /[\u2705\u274C]/.test(r.text ?? '')));
    const phases = await page.evaluate(() => Array.from(document.querySelectorAll('.phase-duration')).map((d) => d.textContent));
    assert.deepEqual(phases, ['not part of a Gate run', 'not part of a Gate run', '1.5 s · Gate from cache', 'not part of a Gate run']);
  });
});
