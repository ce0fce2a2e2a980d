import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXAMPLE_DIR } from './harness/session';
import { panelFrame } from './harness/panel';
import { runCommand, sessionPerSuite } from './harness/suite';
import { treeRows, viewPane } from './harness/tree';

/**
 * Issue 18's UI in a real VS Code with the real engine: "Factory: Run" with `factory.parallel` 2
 * keeps two cycles in flight (the example's D201 and D302, disjoint scopes; the review holds both
 * before ADJUST), the status bar says "2 running · $…", the Runs view lists both with their phase,
 * the Run panel switches between them, and Stop Worker asks which one: stopping D302 alone lets
 * D201 go on to its PASS commit. One session, one run, every assertion on it (CI time).
 */
const REPLAYS = path.join(EXAMPLE_DIR, 'replays');

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@test.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' });
}

/** The example as a user's repository, with D202 and D301 BLOCKED: the queue's next two are D201 and D302. */
function prepareRepo(): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'factory-e2e-parallel-')), 'demo-project');
  fs.cpSync(EXAMPLE_DIR, dir, { recursive: true, filter: (src) => !src.startsWith(REPLAYS) });
  const roadmap = path.join(dir, 'D_ROADMAP.md');
  const text = fs.readFileSync(roadmap, 'utf8').replace(/^(\| D202 \|.*\| )OPEN( \|)$/m, '$1BLOCKED$2').replace(/^(\| D301 \|.*\| )OPEN( \|)$/m, '$1BLOCKED$2');
  assert.equal((text.match(/\| BLOCKED \|/g) ?? []).length, 2, 'D202 and D301 are BLOCKED in the copy');
  fs.writeFileSync(roadmap, text);
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'example');
  return dir;
}

describe('e2e: a parallel run in a real VS Code (factory.parallel 2, replay agent, real engine)', function () {
  const session = sessionPerSuite('parallel', prepareRepo, { settings: { 'factory.replayDirectory': REPLAYS, 'factory.agent': 'replay', 'factory.review.requireApproval': true, 'factory.parallel': 2 }, docker: true, openFactory: true, onFail: (s) => console.log(s.extensionLog().slice(-4000)) });

  it('Run keeps two cycles in flight: the status bar says "2 running", Runs lists both, the panel follows either, Stop Worker stops one', async function () {
    this.timeout(500_000);
    const wb = session().workbench!;
    const page = wb.page;
    const folder = session().folder;
    const head = git(folder, 'rev-parse', 'HEAD').trim();
    await runCommand(page, 'Factory: Run');

    // Both cycles pass every check and wait for the review: two in flight, for as long as the test needs.
    const status = page.locator('.statusbar-item', { hasText: /2 running · \$\d+\.\d\d/ }).first();
    await status.waitFor({ timeout: 300_000 });
    const runs = viewPane(page, 'Runs');
    if ((await runs.locator('.pane-header').getAttribute('aria-expanded')) === 'false') await runs.locator('.pane-header').click();
    const inFlight = async () => (await treeRows(runs)).filter((r) => r.level === 1 && /^(PLAN|DO|CHECK|ADJUST|merge|starting)\b.* · \$/.test(r.description));
    const deadline = Date.now() + 30_000;
    // Until its plan event arrives a cycle's row is named by its run id: wait for both tickets.
    const named = async () => (await inFlight()).filter((r) => /^D\d+$/.test(r.label)).length;
    while ((await named()) < 2 && Date.now() < deadline) await page.waitForTimeout(250);
    const rows = await inFlight();
    assert.deepEqual(rows.map((r) => r.label).sort(), ['D201', 'D302'], JSON.stringify(await treeRows(runs)));
    assert.match(await status.innerText(), /2 running · \$\d+\.\d\d/);
    await wb.screenshot('parallel-01-two-in-flight');

    // The Run panel lists both cycles; choosing the other one shows its run. (The first review's diff
    // opens over the panel: once it is there, bring the panel to the front.)
    await page.locator('.tabs-container .tab', { hasText: 'changeset' }).first().waitFor({ timeout: 120_000 });
    await page.locator('.tabs-container .tab', { hasText: 'Factory Run' }).first().click();
    const frame = panelFrame(page);
    const chips = frame.locator('nav.cycles button.cycle-chip');
    await chips.nth(1).waitFor({ timeout: 30_000 });
    assert.equal(await chips.count(), 2);
    const other = frame.locator('nav.cycles button.cycle-chip[aria-pressed="false"]').first();
    const otherTicket = /^(D\d+)/.exec((await other.innerText()).trim())?.[1];
    assert.ok(otherTicket, await other.innerText());
    await other.click();
    await frame.locator('header.run-header h1', { hasText: otherTicket }).waitFor({ timeout: 30_000 });
    await frame.locator(`nav.cycles button.cycle-chip[aria-pressed="true"]`, { hasText: otherTicket }).waitFor({ timeout: 10_000 });
    await wb.screenshot('parallel-02-panel-follows-the-other');

    // Stop Worker asks which: All, D201, D302. Stop D302 alone; D201 goes on.
    // (Under load the workbench can take focus from the quick pick — a review's diff, a webview —
    // which closes it: ask again, at most three times.)
    const picks = page.locator('.quick-input-list .monaco-list-row');
    for (let attempt = 1; ; attempt++) {
      await runCommand(page, 'Factory: Stop Worker');
      // The palette's own rows go first: wait for Stop Worker's question.
      await picks.filter({ hasText: /All 2 cycles/ }).first().waitFor({ timeout: 10_000 });
      await picks.nth(2).waitFor({ timeout: 10_000 });
      const labels = await picks.evaluateAll((els) => els.map((e) => e.textContent ?? ''));
      assert.ok(/All 2 cycles/.test(labels[0]) && labels.some((l) => l.includes('D201')) && labels.some((l) => l.includes('D302')), labels.join(' | '));
      await wb.screenshot('parallel-03-stop-which');
      try {
        await picks.filter({ hasText: 'D302' }).first().click({ timeout: 10_000 });
        break;
      } catch (err) {
        if (attempt >= 3) throw err;
        await page.keyboard.press('Escape');
      }
    }
    await page.locator('.statusbar-item', { hasText: /D201 (CHECK|ADJUST)/ }).first().waitFor({ timeout: 60_000 });

    // D201's review: approve it; D201 commits, D302 is recorded ABORTED.
    // Its toast, or — when the toasts were hidden (an Escape that closed a quick pick hides them too) — the palette's command.
    const toast = page.locator('.notification-toast', { hasText: 'D201 passed every check' });
    const shown = await toast.waitFor({ timeout: 60_000 }).then(() => true, () => false);
    if (shown) await toast.locator('.monaco-button', { hasText: 'Approve and Apply' }).click();
    else await runCommand(page, 'Factory: Approve Changeset');
    await page.locator('.notification-toast', { hasText: 'D201 PASS' }).first().waitFor({ timeout: 120_000 });
    // The run is over: the status bar names its last record, D201's PASS or D302's ABORTED (whichever landed last).
    await page.locator('.statusbar-item', { hasText: /Factory · last (D201 PASS|D302 ABORTED)/ }).first().waitFor({ timeout: 30_000 });
    const ended = Date.now() + 30_000;
    // This run's rows (the example ships an older D201 run from 2026-11-25).
    const finished = async () => (await treeRows(runs)).filter((r) => r.level === 1 && /^(D201|D302)$/.test(r.label) && !r.description.includes('2026-11-25')).map((r) => `${r.label} ${r.description.split(' · ')[0]}`);
    // The Runs view refreshes on its own (debounced): wait until both rows are final, not in flight.
    const settled = (rows: string[]) => rows.includes('D201 PASS') && rows.some((r) => /^D302 [A-Z]+$/.test(r));
    while (!settled(await finished()) && Date.now() < ended) await page.waitForTimeout(250);
    // D302 was stopped alone (during its Gate or its review): recorded ABORTED, never the Worker's FAIL.
    const done = (await finished()).sort();
    assert.deepEqual(done, ['D201 PASS', 'D302 ABORTED']);
    await wb.screenshot('parallel-04-one-pass-one-stopped');
    const log = git(folder, 'log', '--format=%s', `${head}..HEAD`).trim().split('\n');
    assert.deepEqual(log.filter(Boolean).map((l) => l.split(' — ')[0]), ['factory: D201 PASS']);
    assert.equal(git(folder, 'status', '--porcelain', '--', 'engine/inventory.py', 'tests/test_inventory.py').trim(), '', 'nothing of D302 applied');
  });
});
