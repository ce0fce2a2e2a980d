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
  const out: AcceptanceCriterion[] = [];
  const seen = new Set<AcceptanceCriterion>();
  // One pass per rank (started ACs, open ACs of started tickets, open ACs), each stopping as soon
  // as `limit` are found: on a 50,000-row ledger the queue head is usually in the first rows.
  const take = (rank: (a: AcceptanceCriterion) => boolean) => {
    for (const a of acs) {
      if (out.length >= limit) return;
      if (!isOpen(a) || seen.has(a) || !rank(a) || tickets.get(a.ticketId)?.status === 'BLOCKED') continue;
      seen.add(a);
      out.push(a);
    }
  };
  take((a) => a.status === 'IN_PROGRESS');
  take((a) => tickets.get(a.ticketId)?.status === 'IN_PROGRESS');
  take(() => true);
  return out;
}

/** The AC whose ticket the queue takes next (see {@link queueHead}), or undefined when nothing is open. */
export function nextInQueue(index: SsotIndex): AcceptanceCriterion | undefined {
  return queueHead(index, index.ledger, 1)[0];
}
