import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../src/core/config/load';
import { indexWorkspace } from '../../src/core/ssot/workspace';
import { requireChromium } from '../support/engines';
import { requireCodeServer } from './harness/code-server';
import { Session } from './harness/session';
import { treeRows, viewPane, waitForRows } from './harness/tree';

/**
 * A folder without SSOT documents: the Roadmap view explains it and offers "Initialize Workspace";
 * clicking it writes the documents (the core init) and the views fill from them.
 */
describe('e2e: a folder without SSOT documents', function () {
  let session: Session | undefined;

  after(async function () {
    this.timeout(60_000);
    await session?.close();
  });

  it('the Roadmap view offers Initialize Workspace; clicking it writes the documents and fills both views', async function () {
    this.timeout(240_000);
    const chromium = requireChromium(this);
    const install = requireCodeServer(this);
    session = await new Session({ install, chromium, name: 'init', source: null }).start();
    const wb = session.workbench!;
    try {
      await wb.openContainer('Factory');
      const roadmap = viewPane(wb.page, 'Roadmap');
      const button = roadmap.locator('.welcome-view-content a.monaco-button', { hasText: 'Initialize Workspace' });
      await button.waitFor({ timeout: 60_000 });
      assert.match(await roadmap.locator('.welcome-view-content').innerText(), /no SSOT documents/);
      await wb.screenshot('init-01-welcome');
      assert.ok(!fs.existsSync(path.join(session.folder, 'D_ROADMAP.md')));

      await button.click();
      await waitForRows(roadmap, 2, 30_000);
      await waitForRows(viewPane(wb.page, 'AC Queue'), 1, 30_000);
      await wb.screenshot('init-02-initialized');
    } catch (err) {
      await wb.screenshot('init-failed');
      console.log(session.logTail());
      throw err;
    }

    // What the views show is what the written documents say.
    const { config } = await loadConfig(session.folder);
    for (const f of [config.ssot.roadmap, config.ssot.ledger, config.ssot.rules, '.factory/config.json']) {
      assert.ok(fs.existsSync(path.join(session.folder, f)), `${f} was written`);
    }
    const index = await indexWorkspace(session.folder, config, { git: false });
    const rows = await treeRows(viewPane(wb.page, 'Roadmap'));
    assert.deepEqual(
      rows.filter((r) => r.level === 1).map((r) => r.label),
      index.phases.map((p) => p.title),
    );
    assert.deepEqual(
      rows.filter((r) => r.level === 2).map((r) => r.label),
      index.phases.flatMap((p) => p.ticketIds),
    );
    const queue = await treeRows(viewPane(wb.page, 'AC Queue'));
    assert.deepEqual(
      queue.map((r) => r.label),
      index.ledger.filter((a) => a.status === 'OPEN').map((a) => a.id),
    );
  });
});
