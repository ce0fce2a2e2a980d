import { STATUS_WORDS, type AcceptanceCriterion, type Diagnostic, type SsotIndex, type Status } from './model';
import { queueHead } from './queue-order';

/** One queue entry. */
export interface QueueItem {
  acId: string;
  ticketId: string;
  title: string;
}

/** What `factory status` prints and the status bar shows. */
export interface StatusReport {
  acs: {
    total: number;
    done: number;
    /** Every canonical status word, 0 when absent. */
    byStatus: Record<Status, number>;
  };
  tickets: {
    total: number;
    done: number;
    byStatus: Record<Status, number>;
  };
  /** The AC a cycle takes next (queue-order.ts: started work first, then open ACs in ledger order; BLOCKED tickets skipped), or null. */
  next: QueueItem | null;
  /** The (up to) three open ACs after `next`, in queue order. */
  upcoming: QueueItem[];
  /** Where the queue came from: the ledger, or roadmap ACs when there is no ledger. */
  queueSource: 'ledger' | 'roadmap';
  diagnostics: Diagnostic[];
  /** Diagnostic counts by severity. */
  problems: { errors: number; warnings: number; infos: number };
}

function zeroCounts(): Record<Status, number> {
  return Object.fromEntries(STATUS_WORDS.map((s) => [s, 0])) as Record<Status, number>;
}

/**
 * Summarise an index: AC and ticket counts by status and the queue head (queue-order.ts). The queue is the ledger
 * in document order; without a ledger, the roadmap tickets' ACs in ticket order.
 */
export function computeStatus(index: SsotIndex): StatusReport {
  const queueSource = index.ledger.length > 0 ? 'ledger' : 'roadmap';
  const acs: AcceptanceCriterion[] = queueSource === 'ledger' ? index.ledger : index.tickets.flatMap((t) => t.acs);
  const acCounts = zeroCounts();
  for (const a of acs) acCounts[a.status]++;
  const ticketCounts = zeroCounts();
  for (const t of index.tickets) ticketCounts[t.status]++;

  // The Controller's own order (spec §8-3): what `factory status` calls current is what a cycle takes.
  const open: QueueItem[] = queueHead(index, acs, 4).map((a) => ({ acId: a.id, ticketId: a.ticketId, title: a.title }));
  const problems = { errors: 0, warnings: 0, infos: 0 };
  for (const d of index.diagnostics) {
    if (d.severity === 'error') problems.errors++;
    else if (d.severity === 'warning') problems.warnings++;
    else problems.infos++;
  }
  return {
    acs: { total: acs.length, done: acCounts.DONE, byStatus: acCounts },
    tickets: { total: index.tickets.length, done: ticketCounts.DONE, byStatus: ticketCounts },
    next: open[0] ?? null,
    upcoming: open.slice(1),
    queueSource,
    diagnostics: index.diagnostics,
    problems,
  };
}
