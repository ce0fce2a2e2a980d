import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../src/core/config/load';
import type { SsotIndex } from '../../src/core/ssot/model';
import { computeStatus } from '../../src/core/ssot/status';
import { indexWorkspace } from '../../src/core/ssot/workspace';
import { requireChromium } from '../support/engines';
import { requireCodeServer } from './harness/code-server';
import { Session } from './harness/session';
import { treeRows, viewPane, waitForRows } from './harness/tree';

/**
 * The packaged extension in a real VS Code (code-server) driven through Chromium like a person:
 * trust the folder, open the Factory container, read what the trees show. The expected labels come
 * from the example's own documents, read with our core parser (no hard-coded copies).
 */
describe('e2e: Factory views in a real VS Code', function () {
  let session: Session | undefined;
  let expected: SsotIndex;

  before(async function () {
    this.timeout(240_000);
    const chromium = requireChromium(this);
    const install = requireCodeServer(this);
    session = new Session({ install, chromium, name: 'views' });
    await session.start();
    const { config } = await loadConfig(session.folder);
    expected = await indexWorkspace(session.folder, config, { git: false });
    const wb = session.workbench!;
    try {
      await wb.screenshot('views-01-restricted');
      await wb.trustFolder();
      const clicked = Date.now();
      await wb.openContainer('Factory');
      await waitForRows(viewPane(wb.page, 'Roadmap'), expected.phases.length);
      await waitForRows(viewPane(wb.page, 'AC Queue'), 1);
      console.log(
        `      timings: code-server listening ${session.timings.listeningMs} ms, workbench rendered ${session.timings.workbenchMs} ms, ` +
          `Factory click → both trees rendered ${Date.now() - clicked} ms`,
      );
      await wb.screenshot('views-02-factory');
      console.log(`      activation → trees populated (the example, measured in the extension host): ${await session.activation()}`);
    } catch (err) {
      await wb.screenshot('views-failed-setup');
      console.log(session.logTail());
      throw err;
    }
  });

  after(async function () {
    this.timeout(60_000);
    await session?.close();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && session?.workbench) {
      await session.workbench.screenshot(`views-failed-${this.currentTest.title.replace(/\W+/g, '-')}`);
      console.log(session.logTail());
    }
  });

  it('the Roadmap tree shows the example\'s phases and their tickets with DONE/TOTAL', async () => {
    const rows = await treeRows(viewPane(session!.workbench!.page, 'Roadmap'));
    const phases = rows.filter((r) => r.level === 1);
    assert.deepEqual(
      phases.map((r) => r.label),
      expected.phases.map((p) => p.title),
    );
    assert.ok(phases.every((p) => p.expanded === true), 'phases start expanded');
    const tickets = rows.filter((r) => r.level === 2);
    assert.deepEqual(
      tickets.map((r) => r.label),
      expected.phases.flatMap((p) => p.ticketIds),
    );
    for (const row of tickets) {
      const t = expected.tickets.find((x) => x.id === row.label)!;
      assert.ok(t, row.label);
      if (t.done !== undefined) assert.ok(row.description.startsWith(`${t.done}/${t.total}`), `${t.id}: "${row.description}"`);
      if (t.status === 'BLOCKED') assert.match(row.description, /BLOCKED/);
      assert.ok(row.icon, `${t.id} has a status icon`);
    }
  });

  it('expanding a ticket shows its ACs from the ledger', async () => {
    const page = session!.workbench!.page;
    const pane = viewPane(page, 'Roadmap');
    const ticket = expected.tickets.find((t) => t.status !== 'DONE' && expected.ledger.some((ac) => ac.ticketId === t.id))!;
    assert.ok(ticket, 'the example has an unfinished ticket with ledger ACs');
    const row = pane.locator('.monaco-list-row[aria-level="2"]', { has: page.locator('.label-name', { hasText: new RegExp(`^${ticket.id}$`) }) });
    await row.click();
    await row.press('ArrowRight');
    await pane.locator('.monaco-list-row[aria-level="3"]').first().waitFor({ timeout: 10_000 });
    await session!.workbench!.screenshot('views-03-ticket-expanded');
    const acs = (await treeRows(pane)).filter((r) => r.level === 3);
    assert.deepEqual(
      acs.map((r) => r.label),
      expected.ledger.filter((ac) => ac.ticketId === ticket.id).map((ac) => ac.localId),
    );
  });

  it('the AC Queue lists the OPEN ACs in ledger order with the next one marked', async () => {
    const rows = await treeRows(viewPane(session!.workbench!.page, 'AC Queue'));
    const open = expected.ledger.filter((ac) => ac.status === 'OPEN');
    assert.ok(open.length > 1);
    assert.deepEqual(
      rows.map((r) => r.label),
      open.map((ac) => ac.id),
    );
    assert.match(rows[0].description, /^next\b/);
    assert.ok(rows.slice(1).every((r) => !/^next\b/.test(r.description)));
    assert.equal(rows[0].icon, 'codicon-debug-stackframe', 'the next AC has its own icon');
    assert.ok(rows.slice(1).every((r) => r.icon === 'codicon-circle-large-outline'));
  });

  it('Factory: Show Status from the Command Palette lists progress and the queue pointer', async () => {
    const wb = session!.workbench!;
    const page = wb.page;
    const report = computeStatus(expected);
    assert.ok(report.next);
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 10_000 });
    await input.fill('>Factory: Show Status');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Factory: Show Status' }).first().waitFor({ timeout: 10_000 });
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget .quick-input-title', { hasText: 'Factory Status' }).waitFor({ timeout: 10_000 });
    const rows = page.locator('.quick-input-list .monaco-list-row');
    await rows.first().waitFor({ timeout: 10_000 });
    await wb.screenshot('views-04-show-status');
    const texts = await rows.evaluateAll((els) => els.map((e) => e.textContent ?? ''));
    await page.keyboard.press('Escape');
    assert.ok(texts.some((t) => t.includes(`${report.acs.done}/${report.acs.total} ACs done`)), texts.join(' | '));
    assert.ok(texts.some((t) => t.includes(report.next!.acId) && t.includes('next')), texts.join(' | '));
    for (const u of report.upcoming) assert.ok(texts.some((t) => t.includes(u.acId)), `${u.acId} listed`);
  });

  it('a ticket marked BLOCKED in the roadmap on disk shows BLOCKED in the tree without a manual refresh', async () => {
    const wb = session!.workbench!;
    const ticket = expected.tickets.find((t) => t.status === 'OPEN' && t.source.file === 'D_ROADMAP.md');
    assert.ok(ticket, 'the example has an OPEN ticket in D_ROADMAP.md');
    const file = path.join(session!.folder, ticket.source.file);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const row = lines[ticket.source.line - 1] ?? '';
    assert.ok(row.includes(ticket.id) && /\|\s*OPEN\s*\|\s*$/.test(row), `line ${ticket.source.line} is ${ticket.id}'s row: ${row}`);
    lines[ticket.source.line - 1] = row.replace(/OPEN(\s*\|\s*)$/, 'BLOCKED$1');
    fs.writeFileSync(file, lines.join('\n'));

    const pane = viewPane(wb.page, 'Roadmap');
    const shown = pane.locator('.monaco-list-row[aria-level="2"]', { has: wb.page.locator('.label-name', { hasText: new RegExp(`^${ticket.id}$`) }) });
    await shown.locator('.label-description', { hasText: 'BLOCKED' }).waitFor({ timeout: 15_000 });
    await wb.screenshot('views-05-blocked');
    const after = (await treeRows(pane)).find((r) => r.label === ticket.id);
    assert.ok(after);
    assert.match(after.description, /^\d+\/\d+ · BLOCKED · /);
    assert.equal(after.icon, 'codicon-error');
  });
});
