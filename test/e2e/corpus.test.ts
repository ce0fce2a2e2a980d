import * as assert from 'node:assert/strict';
import { defaultConfig } from '../../src/core/config/schema';
import type { SsotIndex } from '../../src/core/ssot/model';
import { indexWorkspace } from '../../src/core/ssot/workspace';
import { requireChromium, requireCorpus } from '../support/engines';
import { requireCodeServer } from './harness/code-server';
import { Session } from './harness/session';
import { treeRows, viewPane, waitForRows } from './harness/tree';

/**
 * The real-world SSOT documents (../shared/corpus/arbitrage-bot: 191 ledger rows, Korean text)
 * opened IN PLACE in a real VS Code, untrusted (the extension only reads). The trees are virtualised,
 * so the rows a person sees first are compared with the corpus read by our core parser.
 */
describe('e2e: the real corpus in a real VS Code', function () {
  let session: Session | undefined;
  let expected: SsotIndex;

  after(async function () {
    this.timeout(60_000);
    await session?.close();
  });

  it('the first phase, its tickets and the head of the AC queue are the corpus\'s, with the queue size in the view header', async function () {
    this.timeout(240_000);
    const corpus = requireCorpus(this);
    const chromium = requireChromium(this);
    const install = requireCodeServer(this);
    expected = await indexWorkspace(corpus, defaultConfig(), { git: false });
    session = await new Session({ install, chromium, name: 'corpus', inPlace: corpus }).start();
    const wb = session.workbench!;
    const open = expected.ledger.filter((a) => a.status === 'OPEN');
    try {
      await wb.openContainer('Factory');
      await waitForRows(viewPane(wb.page, 'Roadmap'), 2, 60_000);
      await waitForRows(viewPane(wb.page, 'AC Queue'), 2, 60_000);
      await wb.screenshot('corpus-01-factory');
      console.log(`      activation → trees populated (the corpus, measured in the extension host): ${await session.activation()}`);
    } catch (err) {
      await wb.screenshot('corpus-failed');
      console.log(session.logTail());
      throw err;
    }
    const roadmap = await treeRows(viewPane(wb.page, 'Roadmap'));
    const firstPhase = expected.phases[0];
    assert.ok(firstPhase);
    assert.equal(roadmap[0]?.label, firstPhase.title);
    const shownTickets = roadmap.slice(1).filter((r) => r.level === 2).slice(0, firstPhase.ticketIds.length);
    assert.deepEqual(
      shownTickets.map((r) => r.label),
      firstPhase.ticketIds.slice(0, shownTickets.length),
    );
    assert.ok(shownTickets.length >= 3, `several tickets visible (${shownTickets.length})`);

    const queue = await treeRows(viewPane(wb.page, 'AC Queue'));
    assert.ok(queue.length >= 3);
    assert.deepEqual(
      queue.map((r) => r.label),
      open.slice(0, queue.length).map((a) => a.id),
    );
    assert.match(queue[0]?.description ?? '', /^next\b/);
    const header = await viewPane(wb.page, 'AC Queue').locator('.pane-header').innerText();
    assert.match(header, new RegExp(`\\b${open.length} open\\b`));
  });
});
