import { strict as assert } from 'node:assert';
import { selectWork } from '../../../../src/core/plan/queue';
import type { AcceptanceCriterion, SsotIndex, Status, Ticket } from '../../../../src/core/ssot/model';
import { FactoryError } from '../../../../src/core/util/errors';

function ac(id: string, status: Status, line: number): AcceptanceCriterion {
  const [ticketId = '', localId = ''] = id.split('::');
  return { id, ticketId, localId, title: id, status, rawStatus: status, source: { file: 'L.md', line } };
}
const ticket = (id: string): Ticket => ({ id, title: id, status: 'OPEN', rawStatus: 'OPEN', acs: [], source: { file: 'R.md', line: 1 } });
const idx: SsotIndex = {
  phases: [],
  tickets: [ticket('T-1'), ticket('T-2'), ticket('T-3')],
  ledger: [ac('T-1::AC-1', 'IN_PROGRESS', 1), ac('T-2::AC-1', 'OPEN', 2), ac('T-2::AC-2', 'OPEN', 3), ac('T-3::AC-1', 'OPEN', 4)],
  diagnostics: [],
};

describe('selectWork with tickets in flight excluded (parallel run)', () => {
  it('passes over excluded tickets in queue order and keeps a ticket’s ACs one batch', () => {
    assert.equal(selectWork(idx).ticket?.id, 'T-1');
    const w = selectWork(idx, undefined, new Set(['T-1']));
    assert.equal(w.ticket?.id, 'T-2');
    assert.deepEqual(w.acs.map((a) => a.id), ['T-2::AC-1', 'T-2::AC-2']);
    assert.equal(selectWork(idx, undefined, new Set(['T-1', 'T-2'])).ticket?.id, 'T-3');
  });

  it('says the queue is empty, naming what it passed over, when every open ticket is excluded', () => {
    assert.throws(
      () => selectWork(idx, undefined, new Set(['T-1', 'T-2', 'T-3'])),
      (e: unknown) => e instanceof FactoryError && e.code === 'plan.queue-empty' && /3 ticket\(s\) already in flight or waiting \(T-1, T-2, T-3\)/.test(e.message),
    );
  });

  it('never excludes a requested ticket', () => {
    assert.equal(selectWork(idx, 'T-2', new Set(['T-2'])).ticket?.id, 'T-2');
  });
});
