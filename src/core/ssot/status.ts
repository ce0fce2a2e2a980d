import { STATUS_WORDS, type AcceptanceCriterion, type Diagnostic, type SsotIndex, type Status } from './model';

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
  /** The first OPEN AC in ledger order (the spec's SEQUENTIAL_QUEUE policy), or null. */
  next: QueueItem | null;
  /** The (up to) three OPEN ACs after `next`, in queue order. */
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
 * Summarise an index: AC and ticket counts by status and the queue head. The queue is the ledger
 * in document order; without a ledger, the roadmap tickets' ACs in ticket order.
 */
export function computeStatus(index: SsotIndex): StatusReport {
  const queueSource = index.ledger.length > 0 ? 'ledger' : 'roadmap';
  const acs: AcceptanceCriterion[] = queueSource === 'ledger' ? index.ledger : index.tickets.flatMap((t) => t.acs);
  const acCounts = zeroCounts();
  for (const a of acs) acCounts[a.status]++;
  const ticketCounts = zeroCounts();
  for (const t of index.tickets) ticketCounts[t.status]++;

  const open: QueueItem[] = [];
  for (const a of acs) {
    if (a.status !== 'OPEN') continue;
    open.push({ acId: a.id, ticketId: a.ticketId, title: a.title });
    if (open.length === 4) break;
  }
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
