import type { AcceptanceCriterion, SsotIndex } from './model';

/** An AC the queue still has to work on: OPEN, IN_PROGRESS or PARTIAL. */
export function isOpen(ac: AcceptanceCriterion): boolean {
  return ac.status === 'OPEN' || ac.status === 'IN_PROGRESS' || ac.status === 'PARTIAL';
}

/**
 * The queue's order (spec §8-3 steps 4–5), defined once for the Controller (plan/queue.ts), the
 * AC Queue view and `factory status`: tickets the roadmap marks BLOCKED are skipped (they need a
 * person); work already started comes first — IN_PROGRESS ACs, then the open ACs of a ticket the
 * roadmap says is IN_PROGRESS — then the open (OPEN/PARTIAL) ACs in document order. `acs` is the
 * ledger, or the roadmap's ACs when there is no ledger. At most `limit` ACs.
 */
export function queueHead(index: Pick<SsotIndex, 'tickets'>, acs: readonly AcceptanceCriterion[], limit: number): AcceptanceCriterion[] {
  const tickets = new Map(index.tickets.map((t) => [t.id, t]));
  const open = acs.filter((a) => isOpen(a) && tickets.get(a.ticketId)?.status !== 'BLOCKED');
  const started = open.filter((a) => a.status === 'IN_PROGRESS');
  const ofStartedTickets = open.filter((a) => a.status !== 'IN_PROGRESS' && tickets.get(a.ticketId)?.status === 'IN_PROGRESS');
  const out: AcceptanceCriterion[] = [];
  const seen = new Set<AcceptanceCriterion>();
  for (const a of [...started, ...ofStartedTickets, ...open]) {
    if (out.length >= limit) break;
    if (seen.has(a)) continue;
    seen.add(a);
    out.push(a);
  }
  return out;
}

/** The AC whose ticket the queue takes next (see {@link queueHead}), or undefined when nothing is open. */
export function nextInQueue(index: SsotIndex): AcceptanceCriterion | undefined {
  return queueHead(index, index.ledger, 1)[0];
}
