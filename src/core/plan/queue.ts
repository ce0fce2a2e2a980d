import type { AcceptanceCriterion, SsotIndex, Ticket } from '../ssot/model';
import { isOpen, nextInQueue } from '../ssot/queue-order';
import { FactoryError } from '../util/errors';

export { isOpen, nextInQueue } from '../ssot/queue-order';

/**
 * Choose the work of one cycle (spec §3-1, the ledger's SEQUENTIAL_QUEUE policy, §8-3): the
 * ticket of {@link nextInQueue}, or the requested ticket; then batch every open AC of that ticket
 * in ledger order (they share its scope, spec §7-2.4). `exclude`: tickets the queue passes over
 * (a parallel run's tickets in flight, or waiting for one); a requested ticket is never excluded.
 */
export function selectWork(index: SsotIndex, ticket?: string, exclude?: ReadonlySet<string>): { ticket: Ticket | undefined; acs: AcceptanceCriterion[] } {
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
  const skipped = exclude?.size ? exclude : undefined;
  const next = nextInQueue(skipped ? { ...index, ledger: index.ledger.filter((a) => !skipped.has(a.ticketId)) } : index);
  if (next) return { ticket: tickets.get(next.ticketId), acs: acsOf(next.ticketId) };
  const besides = skipped ? ` and the ${skipped.size} ticket(s) already in flight or waiting (${[...skipped].join(', ')})` : '';
  throw new FactoryError(`the queue is empty: no OPEN acceptance criterion outside BLOCKED tickets${besides}`, 'plan.queue-empty');
}
