import { strict as assert } from 'node:assert';
import { isOpen, nextInQueue, selectWork } from '../../../src/core/plan/queue';
import type { AcceptanceCriterion, SsotIndex, Status, Ticket } from '../../../src/core/ssot/model';

function ac(id: string, status: Status, line: number): AcceptanceCriterion {
  const [ticketId = '', localId = ''] = id.split('::');
  return { id, ticketId, localId, title: `title of ${id}`, status, rawStatus: status, source: { file: 'L.md', line } };
}
function ticket(id: string, status: Status): Ticket {
  return { id, title: id, status, rawStatus: status, acs: [], source: { file: 'R.md', line: 1 } };
}
function index(ledger: AcceptanceCriterion[], tickets: Ticket[]): SsotIndex {
  return { phases: [], tickets, ledger, diagnostics: [] };
}

describe('queue per spec §8-3', () => {
  it('takes an IN_PROGRESS AC before any OPEN one, and batches its ticket’s open ACs in ledger order', () => {
    const idx = index(
      [ac('T-1::AC-1', 'OPEN', 1), ac('T-2::AC-1', 'PARTIAL', 2), ac('T-2::AC-2', 'IN_PROGRESS', 3), ac('T-2::AC-3', 'DONE', 4), ac('T-2::AC-4', 'OPEN', 5)],
      [ticket('T-1', 'OPEN'), ticket('T-2', 'OPEN')],
    );
    assert.equal(nextInQueue(idx)?.id, 'T-2::AC-2');
    const { ticket: t, acs } = selectWork(idx);
    assert.equal(t?.id, 'T-2');
    assert.deepEqual(acs.map((a) => a.id), ['T-2::AC-1', 'T-2::AC-2', 'T-2::AC-4']);
  });

  it('then a ticket the roadmap says is IN_PROGRESS, then the first OPEN/PARTIAL AC in ledger order', () => {
    const roadmapFirst = index([ac('T-1::AC-1', 'OPEN', 1), ac('T-2::AC-1', 'OPEN', 2)], [ticket('T-1', 'OPEN'), ticket('T-2', 'IN_PROGRESS')]);
    assert.equal(selectWork(roadmapFirst).ticket?.id, 'T-2');
    const ledgerOrder = index([ac('T-1::AC-1', 'DONE', 1), ac('T-3::AC-1', 'PARTIAL', 2), ac('T-2::AC-1', 'OPEN', 3)], [ticket('T-2', 'OPEN'), ticket('T-3', 'PARTIAL')]);
    assert.equal(selectWork(ledgerOrder).ticket?.id, 'T-3');
  });

  it('skips BLOCKED tickets even when their ACs are IN_PROGRESS', () => {
    const idx = index([ac('T-1::AC-1', 'OPEN', 1), ac('T-2::AC-1', 'IN_PROGRESS', 2)], [ticket('T-1', 'OPEN'), ticket('T-2', 'BLOCKED')]);
    assert.equal(selectWork(idx).ticket?.id, 'T-1');
    const allBlocked = index([ac('T-2::AC-1', 'IN_PROGRESS', 1)], [ticket('T-2', 'BLOCKED')]);
    assert.equal(nextInQueue(allBlocked), undefined);
  });

  it('counts OPEN, IN_PROGRESS and PARTIAL as open work', () => {
    assert.deepEqual((['OPEN', 'IN_PROGRESS', 'PARTIAL', 'DONE', 'BLOCKED', 'UNKNOWN'] as Status[]).map((s) => isOpen(ac('T::AC-1', s, 1))), [true, true, true, false, false, false]);
  });
});
