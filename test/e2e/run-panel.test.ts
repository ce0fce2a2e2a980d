import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { appendHistory } from '../../src/core/history/history';
import { EXAMPLE_DIR } from './harness/session';
import { panelFrame } from './harness/panel';
import { runCommand, sessionPerSuite } from './harness/suite';

/** The newest run of the prepared example: its gate.log carries a hostile line. */
const RUN_ID = '20991231_235959_d201_abcdef0';
const HOSTILE = '<img src=x onerror=alert(1)>';
/** A key the project's output happened to print; set with Factory: Set API Key, it must vanish from the panel. */
const E2E_KEY = 'sk-ant-e2e-0123456789abcdefSECRET';
const GATE_LOG = [
  '[2099-12-31 23:59:59] ===== GATE EXECUTION START =====',
  '[2099-12-31 23:59:59] Gate: fast',
  '[2099-12-31 23:59:59] Command: python3 -m pytest -q',
  `[2099-12-31 23:59:59] | FAILED tests/test_x.py::test_y - ${HOSTILE} </script><script>alert(2)</script>`,
  '[2099-12-31 23:59:59] | \x1b]8;;https://evil.example/\x07click me\x1b]8;;\x07 \u202Eevil\u202C \x1b[31mred text\x1b[0m \x1b]0;pwned\x07end',
  `[2099-12-31 23:59:59] | debug: Authorization: Bearer ${E2E_KEY}`,
  '[2099-12-31 23:59:59] Result: FAIL (1 failed, 12 passed, 0.61s)',
  '[2099-12-31 23:59:59] ===== GATE EXECUTION END =====',
  '[2099-12-31 23:59:59] Status: GATE FAIL ❌ (failed at: fast)',
  '',
].join('\n');

/** The example, plus one evidence run whose gate.log a hostile project could have produced (and its history line: who ran each role, what each spent). */
async function prepareExample(): Promise<string> {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'factory-e2e-src-')), 'demo-project');
  fs.cpSync(EXAMPLE_DIR, dir, { recursive: true });
  const run = path.join(dir, 'logs', 'evidence', RUN_ID);
  fs.mkdirSync(run, { recursive: true });
  fs.writeFileSync(path.join(run, 'gate.log'), GATE_LOG);
  fs.writeFileSync(
    path.join(run, 'manifest.json'),
    JSON.stringify({ run_id: RUN_ID, ticket_id: 'D201', task_name: 'Spread quoting', status: 'FAIL', timestamp: '2099-12-31T23:59:59Z', duration_seconds: 1.2, cost_usd: 0.37, gates: { fast: 'FAIL' }, files: [{ path: 'gate.log', bytes: Buffer.byteLength(GATE_LOG) }] }),
  );
  await appendHistory(path.join(dir, 'logs', 'autopilot', 'history.jsonl'), {
    runId: RUN_ID, ticketId: 'D201', acIds: ['D201::AC-1'], status: 'FAIL', endedAt: '2099-12-31T23:59:59Z', costUsd: 0.37, agent: 'codex', model: 'gpt-5-mini',
    spend: [
      { role: 'worker', agent: 'codex', model: 'gpt-5-mini', tier: 'economy', tokens: { in: 40_000, out: 4_000 }, requests: 6, costUsd: 0.12 },
      { role: 'auditor', agent: 'claude-code', model: 'claude-opus-4-5', tier: 'premium', tokens: { in: 30_000, out: 4_000 }, requests: 2, costUsd: 0.25 },
    ],
  });
  return dir;
}

describe('e2e: Run panel and Cost dashboard in a real VS Code', function () {
  const session = sessionPerSuite('run-panel', prepareExample);

  it('SEC-20 the Run panel shows a log line with <img onerror>, OSC 8, bidi and ANSI escapes as inert text', async function () {
    this.timeout(120_000);
    const wb = session().workbench!;
    await runCommand(wb.page, 'Factory: Open Run Panel');
    const frame = panelFrame(wb.page);
    const row = frame.locator('.log-row', { hasText: 'onerror' });
    await row.waitFor({ timeout: 60_000 });
    await frame.locator('.log-row', { hasText: 'red text' }).waitFor({ timeout: 10_000 });
    await wb.screenshot('run-panel-01-hostile-log');

    assert.equal(await frame.locator('h1').first().innerText(), 'D201 — Spread quoting');
    const text = await row.textContent();
    assert.ok(text?.includes(`${HOSTILE} </script><script>alert(2)</script>`), text ?? '');
    assert.equal(await frame.locator('img').count(), 0, 'no <img> element was created');
    assert.equal(await frame.locator('.log-rows a').count(), 0, 'no link from OSC 8');
    const osc = frame.locator('.log-row', { hasText: 'red text' });
    const oscText = (await osc.textContent()) ?? '';
    assert.ok(oscText.includes('click me') && !oscText.includes('evil.example'), oscText);
    assert.ok(oscText.includes('⟨U+202E⟩') && !/[\u202a-\u202e]/.test(oscText), oscText);
    assert.equal(await osc.locator('.ansi-fg-1').innerText(), 'red text');
    // The timeline, and cost against the budget from the manifest.
    assert.match(await frame.locator('.phase[data-phase="CHECK"]').innerText(), /CHECK/);
    assert.match(await frame.locator('.cost').innerText(), /\$0\.3700 \/ \$1\.00/);
  });

  it('the Run panel shows a row per role with agent, model, tier and spend (from the run\'s history line after a reload)', async function () {
    this.timeout(60_000);
    const wb = session().workbench!;
    const frame = panelFrame(wb.page);
    const rows = frame.locator('tr.role-row');
    await rows.first().waitFor({ timeout: 30_000 });
    await wb.screenshot('run-panel-06-roles');
    const cells = await rows.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-role'), ...Array.from(tr.children).slice(1, 5).map((c) => (c.textContent ?? '').trim())]));
    assert.deepEqual(cells, [
      ['worker', 'codex', 'gpt-5-mini', 'economy', '$0.1200'],
      ['auditor', 'claude-code', 'claude-opus-4-5', 'premium', '$0.2500'],
    ]);
  });

  it('the Evidence tab lists the manifest; clicking gate.log opens it in an editor as a Factory Gate Log', async function () {
    this.timeout(60_000);
    const wb = session().workbench!;
    const frame = panelFrame(wb.page);
    await frame.locator('vscode-tab-header', { hasText: 'Evidence' }).click();
    const link = frame.locator('a.file-link', { hasText: 'gate.log' });
    await link.waitFor({ timeout: 10_000 });
    await wb.screenshot('run-panel-03-evidence');
    await link.click();
    await wb.page.locator('.tab', { hasText: 'gate.log' }).first().waitFor({ timeout: 20_000 });
    // The grammar's language is active for gate.log (the status bar names the editor's language).
    await wb.page.locator('.statusbar-item', { hasText: 'Factory Gate Log' }).waitFor({ timeout: 20_000 });
    await wb.screenshot('run-panel-04-gate-log-editor');
    await wb.page.keyboard.press('Control+W');
  });

  for (const [theme, slug] of [['Light Modern', 'vs'], ['Dark High Contrast', 'hc-black'], ['Light High Contrast', 'hc-light']] as const) {
    it(`log text and the timeline stay legible in the ${theme} theme (contrast ≥ 4.5)`, async function () {
      this.timeout(60_000);
      const wb = session().workbench!;
      // As a person does it: Preferences: Color Theme, type the name, Enter.
      await runCommand(wb.page, 'Preferences: Color Theme');
      // The theme picker replaces the command input; type into whatever has focus now.
      await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: /Dark Modern/ }).first().waitFor({ timeout: 10_000 });
      await wb.page.keyboard.type(theme);
      await wb.page.waitForTimeout(300);
      await wb.page.keyboard.press('Enter');
      await wb.page.locator(`.monaco-workbench.${slug}`).waitFor({ timeout: 30_000 });
      const frame = panelFrame(wb.page);
      await frame.locator('vscode-tab-header', { hasText: 'Gate log' }).click();
      await frame.locator('.log-row', { hasText: 'onerror' }).waitFor({ timeout: 10_000 });
      await wb.page.waitForTimeout(500);
      await wb.screenshot(`run-panel-05-theme-${slug}`);
      // A string, not a function: tsx would put its `__name` helper into a serialised function.
      const ratios = await frame.locator('body').evaluate<{ log: number; phase: number }, undefined>(`(() => {
        const rgb = (c) => (c.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
        const lum = (c) => {
          const [r, g, b] = c.map((v) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; });
          return 0.2126 * r + 0.7152 * g + 0.0722 * b;
        };
        const ratio = (fg, bg) => { const a = lum(rgb(fg)), b = lum(rgb(bg)); return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };
        const scroller = document.querySelector('.log-scroller');
        const row = document.querySelector('.log-row');
        const phase = document.querySelector('.phase-name');
        return {
          log: ratio(getComputedStyle(row).color, getComputedStyle(scroller).backgroundColor),
          phase: ratio(getComputedStyle(phase).color, getComputedStyle(document.body).backgroundColor),
        };
      })()`);
      assert.ok(ratios.log >= 4.5, `log text contrast ${ratios.log.toFixed(2)}`);
      assert.ok(ratios.phase >= 4.5, `timeline contrast ${ratios.phase.toFixed(2)}`);
    });
  }

  it('the status bar shows the last run and opens the panel', async function () {
    this.timeout(60_000);
    const item = session().workbench!.page.locator('.statusbar-item', { hasText: 'Factory' }).first();
    await item.waitFor({ timeout: 30_000 });
    assert.match(await item.innerText(), /Factory · last D201 FAIL/);
  });

  it('the Cost dashboard shows spend per month, ticket and agent/model', async function () {
    this.timeout(120_000);
    const wb = session().workbench!;
    await runCommand(wb.page, 'Factory: Open Cost Dashboard');
    const frame = wb.page.frameLocator('iframe.webview.ready >> nth=-1').frameLocator('#active-frame');
    await frame.locator('.chart').first().waitFor({ timeout: 60_000 });
    await wb.screenshot('run-panel-02-cost-dashboard');
    const labels = await frame.locator('.bar-label').allInnerTexts();
    assert.ok(labels.includes('2099-12'), labels.join(', '));
    assert.ok(labels.includes('D201'), labels.join(', '));
  });

  it('SEC-24/25 Factory: Set API Key stores the key in SecretStorage only, and the Run panel then shows it redacted', async function () {
    this.timeout(120_000);
    const wb = session().workbench!;
    const page = wb.page;
    await page.locator('.tab', { hasText: 'Factory Run' }).click();
    const frame = panelFrame(page);
    await frame.locator('.log-row', { hasText: 'Authorization' }).waitFor({ timeout: 30_000 });
    await runCommand(page, 'Factory: Set API Key');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'anthropic' }).first().click({ timeout: 10_000 });
    const box = page.locator('.quick-input-widget input[type="password"]');
    await box.waitFor({ timeout: 10_000 });
    await box.fill(E2E_KEY);
    await page.keyboard.press('Enter');
    await page.locator('.notification-toast', { hasText: 'SecretStorage' }).first().waitFor({ timeout: 20_000 });
    await page.locator('.tab', { hasText: 'Factory Run' }).click();
    await frame.locator('vscode-button', { hasText: 'Refresh' }).click();
    const row = frame.locator('.log-row', { hasText: 'Authorization' });
    await frame.locator('.log-row', { hasText: '[REDACTED]' }).waitFor({ timeout: 30_000 });
    assert.ok(!(await row.textContent())?.includes(E2E_KEY));
    await wb.screenshot('run-panel-07-key-redacted');
    // Not in the user's settings or anywhere in the workspace folder.
    const settings = fs.readFileSync(path.join(session().profile.userDataDir, 'User', 'settings.json'), 'utf8');
    assert.ok(!settings.includes(E2E_KEY));
    const hits = fs.readdirSync(session().folder, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile() && !d.parentPath.includes(RUN_ID))
      .filter((d) => fs.readFileSync(path.join(d.parentPath, d.name)).includes(E2E_KEY));
    assert.deepEqual(hits.map((d) => d.name), []);
  });

  it('after Developer: Reload Window the Run panel comes back (serializer) with its search (getState/setState)', async function () {
    this.timeout(180_000);
    const wb = session().workbench!;
    const page = wb.page;
    await page.locator('.tab', { hasText: 'Factory Run' }).click();
    let frame = panelFrame(page);
    await frame.locator('vscode-tab-header', { hasText: 'Gate log' }).click();
    await frame.locator('vscode-textfield.search input').fill('onerror');
    await frame.locator('.log-status', { hasText: '1/1 matches for "onerror"' }).waitFor({ timeout: 10_000 });
    await page.waitForTimeout(500); // the state is saved at most every 200 ms
    await runCommand(page, 'Developer: Reload Window');
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await page.locator('.tab', { hasText: 'Factory Run' }).click({ timeout: 60_000 });
    frame = panelFrame(page);
    await frame.locator('.log-status', { hasText: '1/1 matches for "onerror"' }).waitFor({ timeout: 60_000 });
    assert.equal(await frame.locator('vscode-textfield.search').evaluate((e) => (e as HTMLInputElement).value), 'onerror');
    assert.equal(await frame.locator('.log-row.current mark').innerText(), 'onerror');
    await wb.screenshot('run-panel-06-restored-after-reload');
  });
});
