import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { loadConfig } from '../../src/core/config/load';
import { cycleRecords } from '../../src/core/cycle/cycle-paths';
import { planVerdict } from '../../src/core/cycle/verdict';
import { appendHistory, readHistory } from '../../src/core/history/history';
import { indexWorkspace } from '../../src/core/ssot/workspace';
import { EXAMPLE_DIR } from './harness/session';
import { panelFrame } from './harness/panel';
import { runCommand, sessionPerSuite } from './harness/suite';
import { viewPane } from './harness/tree';

/**
 * Issue 20 item 3 in a real VS Code with the real engine: D301 (the demo's stubborn Gate) has used
 * up its retries, so running it ends BLOCKED; the notification names the reason and offers its
 * three actions; "Retry with another agent/model" → replay on claude-opus-4-5 → confirm → the
 * ticket is unblocked in its own commit and a new cycle runs with the evidence summary and the
 * Auditor's findings as its Worker's review comments (feedback.json in its evidence).
 */
const REPLAYS = path.join(EXAMPLE_DIR, 'replays');
const SEEDED = ['20261201_000000_d301_seed000', '20261201_000001_d301_seed001', '20261201_000002_d301_seed002'];

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@test.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' });
}

/** The example as a git checkout where D301 failed three times (the third with the Auditor's FAIL): the retry cap is reached. */
async function prepareRepo(): Promise<string> {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'factory-e2e-blocked-')), 'demo-project');
  fs.cpSync(EXAMPLE_DIR, dir, { recursive: true, filter: (src) => !src.startsWith(REPLAYS) });
  for (const [i, runId] of SEEDED.entries()) {
    const evidence = `logs/evidence/${runId}`;
    fs.mkdirSync(path.join(dir, evidence), { recursive: true });
    fs.writeFileSync(path.join(dir, evidence, 'error.log'), `Status: FAIL\nReason: gate: fast FAIL\nFailed step: stage fast (FAIL: 1 failed)\nFailed test: tests/test_report.py::test_daily_net\n`);
    await appendHistory(path.join(dir, 'logs', 'autopilot', 'history.jsonl'), {
      runId, ticketId: 'D301', acIds: ['D301::AC-1', 'D301::AC-2', 'D301::AC-3'], status: 'FAIL', endedAt: `2026-12-01T00:00:0${i}Z`, costUsd: 0,
      agent: 'replay', model: 'claude-sonnet-4-5', reasons: ['gate: fast FAIL'], evidence, ...(i === 2 ? { audit: 'FAIL' } : {}),
    });
  }
  fs.mkdirSync(path.join(dir, 'logs', 'autopilot', 'audits'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'logs', 'autopilot', 'audits', `${SEEDED[2]}.json`), JSON.stringify({
    ticket_id: 'D301', verdict: 'FAIL', model: 'gpt-5', cost_usd: 0, summary: 'the report recomputes PnL',
    violations: [{ file: 'engine/report.py', line: 3, rule: 'single-pnl', message: 'PnL computed outside engine/pnl.py' }],
  }));
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'example after three D301 FAILs');
  return dir;
}

/** Right-click a Roadmap row and choose an entry, as a person does. */
async function contextMenu(page: Page, rowLabel: string, entry: string): Promise<void> {
  const row = viewPane(page, 'Roadmap').locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${rowLabel}$`) }) }).first();
  await row.click({ button: 'right' });
  const item = page.locator('.monaco-menu .action-menu-item', { hasText: new RegExp(`^\\s*${entry}\\s*$`) }).first();
  await item.waitFor({ timeout: 10_000 });
  await item.hover();
  await item.click();
}

/** Click the Quick Pick row whose label is exactly `label`. */
async function pick(page: Page, label: string): Promise<void> {
  const row = page.locator('.quick-input-list .monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) }).first();
  await row.waitFor({ timeout: 15_000 });
  await row.click();
}

describe('e2e: a BLOCKED ticket is handed to a person, and retried on another model (real VS Code, real engine)', function () {
  const session = sessionPerSuite('blocked-handoff', prepareRepo, { settings: { 'factory.replayDirectory': REPLAYS, 'factory.agent': 'replay' }, docker: true, openFactory: true });

  it('D301 at its retry cap ends BLOCKED: the notification names the reason and offers Retry, Open evidence, Edit ticket; Retry → unblocked, a new cycle runs with the feedback', async function () {
    this.timeout(600_000);
    const wb = session().workbench!;
    const page = wb.page;
    const folder = session().folder;
    const historyFile = path.join(folder, 'logs', 'autopilot', 'history.jsonl');
    await contextMenu(page, 'D301', 'Run This Ticket');

    // The hand-off: the ticket, the kill switch's reason, the last failure, and three actions.
    const toast = page.locator('.notification-toast', { hasText: 'D301 is BLOCKED' }).first();
    await toast.waitFor({ timeout: 240_000 });
    await toast.hover();
    const text = await toast.innerText();
    assert.match(text, /retry cap: 3 failed attempts \(cap 3\)/);
    assert.match(text, /last: gate fast FAIL/);
    for (const action of ['Retry with another agent/model', 'Open evidence', 'Edit ticket']) await toast.locator('.monaco-button', { hasText: action }).waitFor({ timeout: 10_000 });
    await wb.screenshot('blocked-handoff-01-notification');
    assert.match(git(folder, 'log', '-1', '--format=%s'), /^factory: D301 BLOCKED/);

    // Retry → agent → model → confirm.
    const linesBefore = readHistory(historyFile).records.length;
    await toast.locator('.monaco-button', { hasText: 'Retry with another agent/model' }).click();
    await pick(page, 'replay');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'claude-opus-4-5' }).first().waitFor({ timeout: 15_000 });
    await wb.screenshot('blocked-handoff-02-model-pick');
    await pick(page, 'claude-opus-4-5');
    const confirm = page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Unblock and Retry' }).first();
    await confirm.waitFor({ timeout: 15_000 });
    await confirm.click();

    // The retry's cycle ends (the demo's D301 recording still fails its Gate: one FAIL, counted afresh).
    const deadline = Date.now() + 420_000;
    let retried;
    for (;;) {
      retried = readHistory(historyFile).records.slice(linesBefore).find((r) => r.ticketId === 'D301' && r.unblocked === undefined);
      if (retried) break;
      if (Date.now() > deadline) throw new Error(`no retry line in history: ${JSON.stringify(readHistory(historyFile).records.slice(linesBefore))}`);
      await page.waitForTimeout(1000);
    }
    const added = readHistory(historyFile).records.slice(linesBefore);
    const unblock = added.find((r) => r.unblocked !== undefined);
    const order = added.map((r) => r.runId);
    assert.ok(unblock && order.indexOf(unblock.runId) < order.indexOf(retried.runId), JSON.stringify(added.map((r) => [r.runId, r.status])));
    assert.equal(retried.status, 'FAIL', JSON.stringify(retried.reasons));
    assert.equal(retried.agent, 'replay');
    assert.equal(retried.model, 'claude-opus-4-5');
    // Committed: the BLOCKED commit, then the unblock commit; the roadmap says OPEN; the kill switches counted afresh.
    const log = git(folder, 'log', '--format=%s', '-3');
    assert.match(log, /factory: D301 unblocked for a retry on replay \/ claude-opus-4-5\n(.*\n)?factory: D301 BLOCKED/, log);
    const { config } = await loadConfig(folder);
    const index = await indexWorkspace(folder, config, { git: false });
    assert.equal(index.tickets.find((t) => t.id === 'D301')?.status, 'OPEN');
    const ks = planVerdict(cycleRecords(historyFile), 'D301', config).killSwitch;
    assert.equal(ks.attempts, 1);
    // The Worker was told why: the evidence summary and the Auditor's findings, quoted.
    const evidence = path.join(folder, retried.evidence ?? '');
    const feedback = JSON.parse(fs.readFileSync(path.join(evidence, 'feedback.json'), 'utf8')) as { comment: string };
    assert.match(feedback.comment, /This ticket was BLOCKED: retry cap: 3 failed attempts \(cap 3\)/);
    assert.match(feedback.comment, /- gate fast FAIL/);
    assert.match(feedback.comment, /> \[single-pnl\] engine\/report\.py:3 — PnL computed outside engine\/pnl\.py/);
    const plan = JSON.parse(fs.readFileSync(path.join(folder, 'logs', 'autopilot', 'plan.json'), 'utf8')) as { model?: string; override?: unknown };
    assert.equal(plan.model, 'claude-opus-4-5');

    // The Run panel on the retry: the timeline says what each phase did (no "not recorded"), its glyphs drawn by codicons.
    await page.locator('.notification-toast', { hasText: 'D301 FAIL' }).first().waitFor({ timeout: 60_000 }).catch(() => undefined);
    await runCommand(page, 'Factory: Open Run Panel');
    const frame = panelFrame(page);
    await frame.locator('.phase[data-phase="ADJUST"]').waitFor({ timeout: 30_000 });
    const phases = await frame.locator('.phase').allInnerTexts();
    assert.ok(!phases.some((p) => p.includes('not recorded')), phases.join(' | '));
    assert.match(phases.join(' | '), /nothing applied \(FAIL\)/);
    const fontOk = await frame.locator('.phase .codicon').first().evaluate(() => document.fonts.check('16px codicon'));
    assert.ok(fontOk, 'the codicon font is loaded in the webview');
    await wb.screenshot('blocked-handoff-03-run-panel');
  });

  it('the Run panel on a Gate run served from the gate cache: CHECK "Gate from cache", the other phases "not part of a Gate run"', async function () {
    this.timeout(300_000);
    const wb = session().workbench!;
    const page = wb.page;
    // Twice on the same tree: the second Gate is the first one's PASS reused.
    for (let i = 0; i < 2; i++) {
      // Earlier toasts (D301 FAIL's "Gate FAIL at fast") must not answer for this Gate.
      await runCommand(page, 'Notifications: Clear All Notifications');
      await runCommand(page, 'Factory: Run Gate');
      await page.locator('.notification-toast', { hasText: /Factory: Gate (PASS|FAIL)/ }).first().waitFor({ timeout: 240_000 });
    }
    assert.match(await page.locator('.notification-toast', { hasText: /Factory: Gate/ }).first().innerText(), /cached PASS reused/);
    // The newest Runs row is that Gate run: its click opens it in the Run panel.
    const runs = viewPane(page, 'Runs');
    if ((await runs.locator('.pane-header').getAttribute('aria-expanded')) === 'false') await runs.locator('.pane-header').click();
    // Both Gate runs listed first (the view refreshes debounced): the newest, the cached one, is then the first.
    const gateRows = runs.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: /^gate$/ }) });
    await gateRows.nth(1).waitFor({ timeout: 30_000 });
    await gateRows.first().click();
    const frame = panelFrame(page);
    await frame.locator('.phase[data-phase="CHECK"]', { hasText: 'Gate from cache' }).waitFor({ timeout: 30_000 });
    for (const phase of ['PLAN', 'DO', 'ADJUST']) assert.match(await frame.locator(`.phase[data-phase="${phase}"]`).innerText(), /not part of a Gate run/);
    // The Gate log's "ALL GATES PASS ✅" draws its status as a codicon, not an empty box.
    await frame.locator('.log-row', { hasText: 'ALL GATES PASS' }).locator('.codicon-pass').waitFor({ timeout: 30_000 });
    await wb.screenshot('blocked-handoff-04-gate-cache-phases');
  });
});
