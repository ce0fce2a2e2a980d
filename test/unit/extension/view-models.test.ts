import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AcceptanceCriterion, SsotIndex, Status, Ticket } from '../../../src/core/ssot/model';
import { indexDocuments } from '../../../src/core/ssot/workspace';
import { isOpen, nextInQueue, selectWork } from '../../../src/core/plan/queue';
import { BLOCKED_MARK, buildQueueRows, IN_PROGRESS_MARK, NEXT_MARK } from '../../../src/extension/views/ac-queue/ac-queue-model';
import { buildRoadmapRows, UNPHASED_TITLE } from '../../../src/extension/views/roadmap/roadmap-model';
import { statusIcon } from '../../../src/extension/views/status-icon';
import { requireCorpus } from '../../support/engines';

function ac(id: string, status: Status, line: number, title = `title of ${id}`): AcceptanceCriterion {
  const [ticketId = '', localId = ''] = id.split('::');
  return { id, ticketId, localId, title, status, rawStatus: status, source: { file: 'L.md', line } };
}

function ticket(id: string, status: Status, phase: string | undefined, extra: Partial<Ticket> = {}): Ticket {
  return { id, title: `${id} title`, status, rawStatus: status, acs: [], source: { file: 'R.md', line: 1 }, ...(phase ? { phase } : {}), ...extra };
}

const index: SsotIndex = {
  phases: [
    { title: 'Phase 1: Core', ticketIds: ['T1', 'T2'], source: { file: 'R.md', line: 3 } },
    { title: 'Phase 2: Risk', ticketIds: ['T3'], source: { file: 'R.md', line: 10 } },
  ],
  tickets: [
    ticket('T1', 'DONE', 'Phase 1: Core', { done: 2, total: 2 }),
    ticket('T2', 'PARTIAL', 'Phase 1: Core'),
    ticket('T3', 'BLOCKED', 'Phase 2: Risk', { done: 0, total: 1, blockedReason: 'waits for the exchange' }),
    ticket('T9', 'OPEN', undefined, { acs: [ac('T9::AC-1', 'OPEN', 40)] }),
  ],
  ledger: [
    ac('T1::AC-1', 'DONE', 5),
    ac('T1::AC-2', 'DONE', 6),
    ac('T2::AC-1', 'DONE', 7),
    ac('T2::AC-2', 'OPEN', 8),
    ac('T3::AC-1', 'OPEN', 9),
    ac('T2::AC-3', 'LOST_EVIDENCE', 10),
    ac('T2::AC-4', 'OPEN', 11),
  ],
  diagnostics: [],
};

describe('Roadmap rows (phase → ticket → AC)', () => {
  const rows = buildRoadmapRows(index);

  it('groups tickets under their phases in document order, unphased tickets last', () => {
    assert.deepEqual(
      rows.map((p) => [p.label, p.children.map((t) => t.label)]),
      [
        ['Phase 1: Core', ['T1', 'T2']],
        ['Phase 2: Risk', ['T3']],
        [UNPHASED_TITLE, ['T9']],
      ],
    );
  });

  it('a ticket shows DONE/TOTAL: the roadmap column when given, otherwise counted from its ACs', () => {
    const [t1, t2] = rows[0].children;
    assert.match(t1.description, /^2\/2 · /);
    // T2 has no column: 1 of its 4 ledger ACs is DONE.
    assert.match(t2.description, /^1\/4 · PARTIAL · /);
  });

  it('a BLOCKED ticket says so in its description, tooltip (with the reason) and icon', () => {
    const t3 = rows[1].children[0];
    assert.match(t3.description, /^0\/1 · BLOCKED · /);
    assert.match(t3.tooltip, /Blocked: waits for the exchange/);
    assert.deepEqual(t3.icon, statusIcon('BLOCKED'));
    assert.equal(t3.contextValue, 'ticket;status:BLOCKED');
    assert.match(rows[1].description, /1 BLOCKED/);
  });

  it("a ticket's children are its ledger ACs in ledger order, then ACs only the roadmap lists", () => {
    assert.deepEqual(
      rows[0].children[1].children.map((r) => r.label),
      ['AC-1', 'AC-2', 'AC-3', 'AC-4'],
    );
    assert.deepEqual(
      rows[2].children[0].children.map((r) => r.label),
      ['AC-1'],
    );
  });

  it('row keys are unique (VS Code rejects duplicate tree item ids) even for duplicate AC ids', () => {
    const dup: SsotIndex = { ...index, ledger: [...index.ledger, ac('T1::AC-1', 'DONE', 30)] };
    const keys = buildRoadmapRows(dup).flatMap((p) => [p.key, ...p.children.flatMap((t) => [t.key, ...t.children.map((a) => a.key)])]);
    assert.equal(new Set(keys).size, keys.length);
  });

  it('every status has its own icon', () => {
    const statuses: Status[] = ['OPEN', 'IN_PROGRESS', 'PARTIAL', 'DONE', 'BLOCKED', 'LOST_EVIDENCE', 'UNKNOWN'];
    assert.equal(new Set(statuses.map((s) => statusIcon(s).id)).size, statuses.length);
  });
});

describe('AC Queue rows', () => {
  it('lists the open ACs in the order the Controller takes them (a ticket per cycle), marks the first as next and BLOCKED tickets last', () => {
    const rows = buildQueueRows(index);
    // T2's open ACs are one cycle (AC-2 and AC-4 together); T3 is BLOCKED: listed after, never taken.
    assert.deepEqual(
      rows.map((r) => [r.label, r.blocked]),
      [
        ['T2::AC-2', false],
        ['T2::AC-4', false],
        ['T3::AC-1', true],
      ],
    );
    assert.equal(rows[0].isNext, true);
    assert.ok(rows[0].description.startsWith(`${NEXT_MARK} · `));
    assert.ok(rows.slice(1).every((r) => !r.isNext && !r.description.startsWith(NEXT_MARK)));
    assert.notEqual(rows[0].icon.id, rows[1].icon.id);
    assert.equal(rows[0].contextValue, 'ac;status:OPEN;next');
    assert.match(rows[1].tooltip, /Next cycle: ticket T2 \(2 ACs together\)/);
    assert.ok(rows[2].description.startsWith(`${BLOCKED_MARK} · `));
    assert.deepEqual(rows[2].icon, statusIcon('BLOCKED'));
    assert.match(rows[2].tooltip, /Not taken: ticket T3 is BLOCKED \(waits for the exchange\)/);
    assert.equal(rows[2].contextValue, 'ac;status:OPEN;blocked');
  });

  it('spec §8-3: IN_PROGRESS work first, marked in progress; then OPEN/PARTIAL in ledger order, one ticket per cycle', () => {
    const queued: SsotIndex = {
      ...index,
      tickets: [...index.tickets, ticket('T4', 'OPEN', undefined), ticket('T5', 'OPEN', undefined)],
      ledger: [...index.ledger, ac('T4::AC-1', 'PARTIAL', 12), ac('T5::AC-1', 'OPEN', 13), ac('T5::AC-2', 'IN_PROGRESS', 14)],
    };
    const rows = buildQueueRows(queued);
    assert.deepEqual(
      rows.map((r) => r.label),
      ['T5::AC-1', 'T5::AC-2', 'T2::AC-2', 'T2::AC-4', 'T4::AC-1', 'T3::AC-1'],
    );
    // The queue's own module decides: the first row is the ticket nextInQueue picks.
    assert.equal(rows[0].ac.ticketId, nextInQueue(queued)?.ticketId);
    assert.equal(rows[0].isNext, true);
    const running = rows[1];
    assert.ok(running.description.startsWith(`${IN_PROGRESS_MARK} · `), running.description);
    assert.deepEqual(running.icon, statusIcon('IN_PROGRESS'));
    assert.match(running.tooltip, /Status: IN_PROGRESS \(a cycle is working on it\)/);
    assert.equal(running.contextValue, 'ac;status:IN_PROGRESS');
    assert.match(rows[4].description, /^partial · /);
    assert.match(rows[4].tooltip, /Cycle 3 in the queue: ticket T4$/m);
  });

  it('an IN_PROGRESS AC at the head of the queue is both next and in progress, with the in-progress icon', () => {
    const rows = buildQueueRows({ ...index, ledger: index.ledger.map((a) => (a.id === 'T2::AC-2' ? { ...a, status: 'IN_PROGRESS' as const } : a)) });
    assert.equal(rows[0].label, 'T2::AC-2');
    assert.ok(rows[0].description.startsWith(`${NEXT_MARK} · ${IN_PROGRESS_MARK} · `));
    assert.deepEqual(rows[0].icon, statusIcon('IN_PROGRESS'));
  });

  it('equals asking nextInQueue/selectWork for every cycle, on random ledgers (IN_PROGRESS ACs and tickets, PARTIAL, BLOCKED, DONE)', () => {
    // The queue module's order, one cycle at a time, as the Controller would take it.
    const byQueue = (idx: SsotIndex): string[] => {
      const out: string[] = [];
      let rest = idx;
      for (let next = nextInQueue(rest); next; next = nextInQueue(rest)) {
        const id = next.ticketId;
        out.push(...selectWork(rest, id).acs.map((a) => a.id));
        rest = { ...rest, ledger: rest.ledger.filter((a) => a.ticketId !== id) };
      }
      return out;
    };
    let seed = 7;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), (seed >>> 16) % n);
    const acStatuses: Status[] = ['OPEN', 'OPEN', 'OPEN', 'DONE', 'PARTIAL', 'IN_PROGRESS', 'LOST_EVIDENCE'];
    const ticketStatuses: Status[] = ['OPEN', 'OPEN', 'PARTIAL', 'IN_PROGRESS', 'BLOCKED', 'DONE'];
    for (let round = 0; round < 200; round++) {
      const tickets = Array.from({ length: 1 + rand(8) }, (_, i) => ticket(`R${i}`, ticketStatuses[rand(ticketStatuses.length)], undefined));
      const ledger = Array.from({ length: rand(25) }, (_, i) => ac(`R${rand(tickets.length + 1)}::AC-${i}`, acStatuses[rand(acStatuses.length)], i + 1));
      const idx: SsotIndex = { phases: [], tickets, ledger, diagnostics: [] };
      const rows = buildQueueRows(idx);
      assert.deepEqual(rows.filter((r) => !r.blocked).map((r) => r.label), byQueue(idx), `round ${round}`);
      assert.equal(rows.length, ledger.filter(isOpen).length, `round ${round}: every open AC is listed once`);
    }
  });

  it('is empty when no AC is OPEN', () => {
    assert.deepEqual(buildQueueRows({ ...index, ledger: index.ledger.filter((a) => a.status !== 'OPEN') }), []);
  });
});

describe('view rows on the real corpus', () => {
  it('the corpus roadmap and ledger produce one row per ticket and one queue row per open ledger AC', function () {
    const corpus = requireCorpus(this);
    const read = (rel: string): { file: string; text: string } => ({ file: rel, text: fs.readFileSync(path.join(corpus, rel), 'utf8') });
    const idx = indexDocuments({ roadmap: read('D_ROADMAP.md'), ledger: read('docs/v2/design/AC_LEDGER.md') });
    const rows = buildRoadmapRows(idx);
    const ticketRows = rows.flatMap((p) => p.children);
    assert.equal(ticketRows.length, idx.tickets.length);
    assert.deepEqual(
      rows.filter((p) => p.label !== UNPHASED_TITLE).map((p) => p.label),
      idx.phases.map((p) => p.title),
    );
    const queue = buildQueueRows(idx);
    assert.equal(queue.length, idx.ledger.filter(isOpen).length);
    assert.ok(queue.length > 0);
    // The pointer is an AC of the ticket the Controller takes next.
    assert.equal(queue[0].ac.ticketId, nextInQueue(idx)?.ticketId);
    // Tickets with a DONE/TOTAL column show exactly that.
    for (const row of ticketRows) {
      const t = row.ticket;
      if (t.done !== undefined && t.total !== undefined) assert.ok(row.description.startsWith(`${t.done}/${t.total}`), t.id);
    }
  });
});
