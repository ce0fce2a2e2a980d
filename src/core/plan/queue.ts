import type { AcceptanceCriterion, SsotIndex, Ticket } from '../ssot/model';
import { FactoryError } from '../util/errors';

/** An AC the queue still has to work on: OPEN, IN_PROGRESS or PARTIAL. */
export function isOpen(ac: AcceptanceCriterion): boolean {
  return ac.status === 'OPEN' || ac.status === 'IN_PROGRESS' || ac.status === 'PARTIAL';
}

/**
 * The AC whose ticket the queue takes next (spec §8-3 steps 4–5), skipping tickets the roadmap
 * marks BLOCKED (they need a person): work already started comes first — the first IN_PROGRESS
 * AC of the ledger (a cycle marks its ACs so), then the first open AC of a ticket the roadmap
 * says is IN_PROGRESS — then the first OPEN/PARTIAL AC in ledger order.
 */
export function nextInQueue(index: SsotIndex): AcceptanceCriterion | undefined {
  const tickets = new Map(index.tickets.map((t) => [t.id, t]));
  const open = index.ledger.filter((a) => isOpen(a) && tickets.get(a.ticketId)?.status !== 'BLOCKED');
  return open.find((a) => a.status === 'IN_PROGRESS') ?? open.find((a) => tickets.get(a.ticketId)?.status === 'IN_PROGRESS') ?? open[0];
}

/**
 * Choose the work of one cycle (spec §3-1, the ledger's SEQUENTIAL_QUEUE policy, §8-3): the
 * ticket of {@link nextInQueue}, or the requested ticket; then batch every open AC of that ticket
 * in ledger order (they share its scope, spec §7-2.4).
 */
export function selectWork(index: SsotIndex, ticket?: string): { ticket: Ticket | undefined; acs: AcceptanceCriterion[] } {
  const tickets = new Map(index.tickets.map((t) => [t.id, t]));
  const acsOf = (id: string): AcceptanceCriterion[] => {
    const fromLedger = index.ledger.filter((a) => a.ticketId === id);
    const all = fromLedger.length ? fromLedger : tickets.get(id)?.acs ?? [];
    return all.filter(isOpen);
  };
  if (ticket !== undefined) {
    const known = tickets.has(ticket) || index.ledger.some((a) => a.ticketId === ticket);
    if (!known) throw new FactoryError(`unknown ticket ${ticket}: it is in neither the roadmap nor the ledger`, 'plan.unknown-ticket');
    if (tickets.get(ticket)?.status === 'BLOCKED') {
      throw new FactoryError(`ticket ${ticket} is BLOCKED${tickets.get(ticket)?.blockedReason ? ` (${tickets.get(ticket)?.blockedReason})` : ''}; unblock it in the roadmap first`, 'plan.blocked');
    }
    const acs = acsOf(ticket);
    if (acs.length === 0) throw new FactoryError(`ticket ${ticket} has no OPEN acceptance criteria`, 'plan.nothing-open');
    return { ticket: tickets.get(ticket), acs };
  }
  const next = nextInQueue(index);
  if (next) return { ticket: tickets.get(next.ticketId), acs: acsOf(next.ticketId) };
  throw new FactoryError('the queue is empty: no OPEN acceptance criterion outside BLOCKED tickets', 'plan.queue-empty');
}
