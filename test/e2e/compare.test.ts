import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { EXAMPLE_DIR } from './harness/session';
import { sessionPerSuite } from './harness/suite';
import { viewPane } from './harness/tree';

/**
 * Issue 20's "Run With Two Agents…" in a real VS Code with the real engine: from the Roadmap's
 * context menu, two sides (the replay agent on its routed model and on a model picked by name), a
 * Quick Pick with one row per candidate (Gate, files, diff lines, tokens, cost, the cheapest
 * passing one marked), a button opening a candidate's changeset; the picked one alone is committed.
 */
const REPLAYS = path.join(EXAMPLE_DIR, 'replays');

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@test.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' });
}

function prepareRepo(): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'factory-e2e-compare-')), 'demo-project');
  fs.cpSync(EXAMPLE_DIR, dir, { recursive: true, filter: (src) => !src.startsWith(REPLAYS) });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'example');
  return dir;
}

/** Answer the open Quick Pick: type `filter`, wait for a row matching `row`, click it. */
async function pick(page: Page, title: RegExp, row: RegExp, filter = ''): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  await widget.locator('.quick-input-title', { hasText: title }).waitFor({ timeout: 15_000 });
  if (filter) await widget.locator('input').fill(filter);
  await widget.locator('.quick-input-list .monaco-list-row', { hasText: row }).first().click();
}

describe('e2e: Run With Two Agents in a real VS Code (replay agent on two models, real engine)', function () {
  const session = sessionPerSuite('compare', prepareRepo, { settings: { 'factory.replayDirectory': REPLAYS }, docker: true, openFactory: true });

  it('two sides from the context menu → one row per candidate → the picked one alone is committed', async function () {
    this.timeout(500_000);
    const wb = session().workbench!;
    const page = wb.page;
    const folder = session().folder;
    const head = git(folder, 'rev-parse', 'HEAD').trim();
    const row = viewPane(page, 'Roadmap').locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: /^D201$/ }) }).first();
    await row.click({ button: 'right' });
    const entry = page.locator('.monaco-menu .action-menu-item', { hasText: /Run With Two Agents/ }).first();
    await entry.waitFor({ timeout: 10_000 });
    await entry.hover();
    await wb.screenshot('compare-01-context-menu');
    await entry.click();

    await pick(page, /side A$/, /^replay/, 'replay');
    await pick(page, /side A: replay's model/, /Routed model/);
    await pick(page, /side B$/, /^replay/, 'replay');
    await pick(page, /side B: replay's model/, /gpt-5-mini/, 'gpt-5-mini');

    // Both sides ran and were checked: the choice, one row per candidate.
    const widget = page.locator('.quick-input-widget');
    await widget.locator('.quick-input-title', { hasText: /which changeset is applied/ }).waitFor({ timeout: 420_000 });
    const rows = widget.locator('.quick-input-list .monaco-list-row');
    await rows.filter({ hasText: /Gate PASS/ }).nth(1).waitFor({ timeout: 10_000 });
    const texts = await rows.allInnerTexts();
    const candidates = texts.filter((t) => /Gate (PASS|FAIL)/.test(t));
    assert.equal(candidates.length, 2, texts.join(' | '));
    for (const t of candidates) assert.match(t, /replay[\s\S]*2 files[\s\S]*diff lines[\s\S]*tokens in[\s\S]*\$0\.\d{4}/);
    assert.equal(candidates.filter((t) => t.includes('cheapest passing')).length, 1, candidates.join(' | '));
    assert.ok(texts.some((t) => t.includes('Apply none')) && texts.some((t) => t.includes('Compare side by side')), texts.join(' | '));
    await wb.screenshot('compare-02-pick');

    // A row's button opens that candidate's changeset; the pick stays open.
    // (forced: the row's description tooltip may lie over its button; the focused row shows its buttons)
    await rows.first().locator('.action-label[aria-label^="Open this changeset"]').click({ force: true });
    await page.locator('.tab', { hasText: 'D201 · replay' }).first().waitFor({ timeout: 30_000 });
    await page.locator('.monaco-diff-editor .view-line', { hasText: 'MAX_SPREAD_BPS' }).first().waitFor({ timeout: 30_000 });
    await wb.screenshot('compare-03-candidate-diff');

    // Apply the second candidate.
    await rows.filter({ hasText: /Gate PASS/ }).nth(1).click();
    await page.locator('.notification-toast', { hasText: 'D201 PASS' }).first().waitFor({ timeout: 180_000 });
    await wb.screenshot('compare-04-pass');
    // One commit, the picked side's.
    assert.equal(git(folder, 'rev-parse', 'HEAD~1').trim(), head);
    assert.match(git(folder, 'log', '-1', '--format=%s'), /^factory: D201 PASS/);
    assert.equal(git(folder, 'status', '--porcelain', '--', 'engine', 'tests').trim(), '');
  });
});
