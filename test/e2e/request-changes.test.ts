import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { EXAMPLE_DIR } from './harness/session';
import { contextMenu, panelFrame, panelRun, runIdNow } from './harness/panel';
import { sessionPerSuite } from './harness/suite';

/**
 * Issue 20's "Request changes" in a real VS Code with the real engine: the review diff of D201
 * takes a comment on a line of the Worker's file, "Request Changes" (the editor title button) asks
 * for a comment, the cycle ends FAIL saying changes were requested, the feedback is stored for the
 * ticket's next attempt with the line comment, and that attempt's Worker gets it in its prompt.
 */
const REPLAYS = path.join(EXAMPLE_DIR, 'replays');
const LINE_TEXT = 'MAX_SPREAD_BPS = 20_000';
const LINE_COMMENT = 'e2e: derive this bound from BPS instead of a literal';
const COMMENT = 'e2e: name the bound and test the edge';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@test.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' });
}

function prepareRepo(): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'factory-e2e-reqchg-')), 'demo-project');
  fs.cpSync(EXAMPLE_DIR, dir, { recursive: true, filter: (src) => !src.startsWith(REPLAYS) });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.name', 'E2E Reviewer');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'example');
  return dir;
}

/** The 1-based line of LINE_TEXT in engine/pricing.py as D201's replay writes it. */
function expectedLine(): number {
  const replay = JSON.parse(fs.readFileSync(path.join(REPLAYS, 'D201.json'), 'utf8')) as { steps: { op: string; path: string; find?: string; replace?: string }[] };
  const step = replay.steps.find((s) => s.op === 'replace' && s.path === 'engine/pricing.py')!;
  const after = fs.readFileSync(path.join(EXAMPLE_DIR, 'engine', 'pricing.py'), 'utf8').replace(step.find!, step.replace!);
  return after.split('\n').findIndex((l) => l.startsWith(LINE_TEXT)) + 1;
}

/** The Run panel's final status of a run started after `since` that is not `previousRun`. */
async function panelOutcome(page: Page, previousRun: string, since: string, timeoutMs: number): Promise<{ runId: string; status: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const runId = await panelRun(page).catch(() => '');
    const badge = panelFrame(page).locator('vscode-badge.status').first();
    const status = runId && runId !== previousRun && runId >= since && (await badge.isVisible().catch(() => false)) ? (await badge.innerText()).trim() : '';
    if (/^(FAIL|PASS|BLOCKED|ABORTED)$/.test(status)) return { runId, status };
    if (Date.now() > deadline) throw new Error(`the Run panel did not show a new run's end (shows "${runId}", "${status}")`);
    await page.waitForTimeout(500);
  }
}

/** Run D201 from the Roadmap and wait until its changeset waits for review, the diff drawn. */
async function runToReview(page: Page): Promise<void> {
  await contextMenu(page, 'Roadmap', 'D201', 'Run This Ticket');
  const toast = page.locator('.notification-toast', { hasText: 'passed every check' });
  await toast.waitFor({ timeout: 300_000 });
  await page.locator('.tab', { hasText: 'D201 changeset' }).first().waitFor({ timeout: 30_000 });
  await page.locator('.monaco-diff-editor .editor.modified .view-line', { hasText: LINE_TEXT }).first().waitFor({ timeout: 30_000 });
}

/** Click the editor title's "Request Changes" and answer its comment box. */
async function requestChanges(page: Page, comment: string, shot: () => Promise<unknown>): Promise<void> {
  const button = page.locator('.editor-actions .action-label[aria-label^="Request Changes"]').first();
  await button.waitFor({ timeout: 10_000 });
  await button.click();
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 10_000 });
  await input.fill(comment);
  await shot();
  await page.keyboard.press('Enter');
}

describe('e2e: Request changes with a line comment in a real VS Code (replay agent, real engine)', function () {
  const session = sessionPerSuite('request-changes', prepareRepo, { settings: { 'factory.replayDirectory': REPLAYS, 'factory.agent': 'replay', 'factory.review.requireApproval': true }, docker: true, openFactory: true });

  it('a comment on a line of the diff + Request Changes → FAIL "changes requested", the feedback stored with the line comment', async function () {
    this.timeout(420_000);
    const wb = session().workbench!;
    const page = wb.page;
    const folder = session().folder;
    const head = git(folder, 'rev-parse', 'HEAD').trim();
    const previous = await panelRun(page);
    const since = runIdNow();
    await runToReview(page);
    await wb.screenshot('request-changes-01-review');

    // A comment on the Worker's new line, as a person adds one: hover the line, click the "+" the
    // comment controller shows in its gutter (every line of the after side takes comments).
    const line = page.locator('.monaco-diff-editor .editor.modified .view-line', { hasText: LINE_TEXT }).first();
    await line.hover();
    // Every commenting line carries the glyph; the "+" is the one in the hovered line's row.
    const glyphs = page.locator('.monaco-diff-editor .editor.modified .comment-diff-added');
    await glyphs.first().waitFor({ timeout: 10_000 });
    const at = (await line.boundingBox())!;
    const gx = (await glyphs.first().boundingBox())!;
    await page.mouse.move(gx.x + gx.width / 2, at.y + at.height / 2);
    await wb.screenshot('request-changes-02-gutter-plus');
    await page.mouse.click(gx.x + gx.width / 2, at.y + at.height / 2);
    const widget = page.locator('.review-widget').first();
    await widget.waitFor({ timeout: 15_000 });
    await widget.locator('.comment-form .monaco-editor').first().click();
    await page.keyboard.insertText(LINE_COMMENT);
    await wb.screenshot('request-changes-03-line-comment-typed');
    // The button is enabled once the form has seen the text (late on a loaded machine): a click before does nothing.
    const add = widget.locator('.monaco-button:not(.disabled)', { hasText: /^Add Comment$/ }).first();
    await add.waitFor({ timeout: 30_000 });
    await add.click();
    await widget.locator('.comment-body', { hasText: LINE_COMMENT }).first().waitFor({ timeout: 30_000 });
    await wb.screenshot('request-changes-04-line-comment');

    await requestChanges(page, COMMENT, () => wb.screenshot('request-changes-05-comment-box'));
    const end = await panelOutcome(page, previous, since, 120_000);
    assert.equal(end.status, 'FAIL');
    assert.match(await panelFrame(page).locator('.note').innerText(), /changes requested: e2e: name the bound and test the edge/);
    await wb.screenshot('request-changes-06-fail');
    // The threads went with the review.
    await page.waitForFunction(() => document.querySelectorAll('.review-widget').length === 0, undefined, { timeout: 15_000 });

    // Nothing applied; the feedback waits for D201's next attempt, with the line comment.
    assert.equal(git(folder, 'rev-parse', 'HEAD').trim(), head);
    const stored = JSON.parse(fs.readFileSync(path.join(folder, 'logs', 'autopilot', 'feedback', 'D201.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(stored.schema_version, 1);
    assert.equal(stored.ticket_id, 'D201');
    assert.equal(stored.run_id, end.runId);
    assert.equal(stored.comment, COMMENT);
    assert.equal(stored.author, 'E2E Reviewer');
    assert.deepEqual(stored.line_comments, [{ path: 'engine/pricing.py', line: expectedLine(), body: LINE_COMMENT }]);
  });

  it('the next attempt\'s Worker gets the comments in its prompt', async function () {
    this.timeout(420_000);
    const wb = session().workbench!;
    const page = wb.page;
    const folder = session().folder;
    const previous = await panelRun(page);
    const since = runIdNow();
    await runToReview(page);
    // This attempt is turned down too (a comment, no line comments), so its staging copy — the agent's prompt with it — is kept.
    await requestChanges(page, 'e2e: second round', () => wb.screenshot('request-changes-07-second-review'));
    const end = await panelOutcome(page, previous, since, 120_000);
    assert.equal(end.status, 'FAIL');
    const readme = fs.readFileSync(path.join(folder, 'logs', 'evidence', end.runId, 'README.md'), 'utf8');
    const kept = /kept for inspection at `([^`]+)`/.exec(readme)?.[1];
    assert.ok(kept, readme);
    const prompt = fs.readFileSync(path.join(path.isAbsolute(kept) ? kept : path.join(folder, kept), 'agent', 'prompt.md'), 'utf8');
    assert.match(prompt, /Review comments from the previous attempt/);
    assert.ok(prompt.includes(COMMENT), prompt);
    assert.ok(prompt.includes(LINE_COMMENT) && prompt.includes('engine/pricing.py'), prompt);
    // The second request is what waits now.
    const pending = JSON.parse(fs.readFileSync(path.join(folder, 'logs', 'autopilot', 'feedback', 'D201.json'), 'utf8')) as { comment: string; run_id: string };
    assert.deepEqual([pending.comment, pending.run_id], ['e2e: second round', end.runId]);
    await wb.screenshot('request-changes-08-second-fail');
  });
});
