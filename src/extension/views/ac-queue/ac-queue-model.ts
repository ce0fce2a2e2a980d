import { isOpen, nextInQueue, selectWork } from '../../../core/plan/queue';
import type { AcceptanceCriterion, SsotIndex } from '../../../core/ssot/model';
import { statusIcon, type RowView } from '../status-icon';

/** One row of the AC Queue view; built without `vscode` so it is unit-testable. */
export interface QueueRow extends RowView {
  isNext: boolean;
  /** The ticket is BLOCKED in the roadmap: the Controller does not take this AC until a person unblocks it. */
  blocked: boolean;
  ac: AcceptanceCriterion;
}

/** The marker the next AC carries in its description (what the Controller would pick). */
export const NEXT_MARK = 'next';
/** The marker of an AC a cycle is working on (the ledger says IN_PROGRESS). */
export const IN_PROGRESS_MARK = 'in progress';
/** The marker of an open AC whose ticket is BLOCKED (listed after the queue, never taken). */
export const BLOCKED_MARK = 'blocked';

/** One cycle's work as the Controller will take it: a ticket and its open ACs. */
interface Batch {
  ticketId: string;
  acs: AcceptanceCriterion[];
}

/**
 * The open ledger ACs in the order the Controller takes them (spec §8-3): repeatedly the ticket
 * of `nextInQueue` with every open AC `selectWork` batches for it — so IN_PROGRESS work first,
 * then OPEN/PARTIAL in ledger order — with the order itself left to `core/plan/queue.ts`.
 */
function queueBatches(index: SsotIndex): Batch[] {
  const batches: Batch[] = [];
  let rest = index;
  for (let next = nextInQueue(rest); next; next = nextInQueue(rest)) {
    const ticketId = next.ticketId;
    batches.push({ ticketId, acs: selectWork(rest, ticketId).acs });
    // The cycle closes its ticket's ACs: the queue moves on to the next ticket.
    rest = { ...rest, ledger: rest.ledger.filter((a) => a.ticketId !== ticketId) };
  }
  return batches;
}

/**
 * The AC Queue: the open ACs (OPEN, IN_PROGRESS, PARTIAL) in the order the Controller will take
 * them, one cycle per ticket. The first is the queue pointer, marked `next` with its own icon;
 * IN_PROGRESS ACs (a cycle is on them) say so with the in-progress icon. Open ACs of BLOCKED
 * tickets follow, marked `blocked`: they are not taken until the roadmap unblocks the ticket.
 */
export function buildQueueRows(index: SsotIndex): QueueRow[] {
  const batches = queueBatches(index);
  const rows = batches.flatMap((b, cycle) => b.acs.map((ac, i) => queueRow(ac, { isNext: cycle === 0 && i === 0, where: cycleText(b, cycle) })));
  const blockedTickets = new Map(index.tickets.filter((t) => t.status === 'BLOCKED').map((t) => [t.id, t] as const));
  const blocked = index.ledger.filter((a) => isOpen(a) && blockedTickets.has(a.ticketId));
  return rows.concat(blocked.map((ac) => {
    const why = blockedTickets.get(ac.ticketId)?.blockedReason;
    return queueRow(ac, { isNext: false, where: `Not taken: ticket ${ac.ticketId} is BLOCKED${why ? ` (${why})` : ''}`, blocked: true });
  }));
}

function cycleText(b: Batch, cycle: number): string {
  const which = cycle === 0 ? 'Next cycle' : `Cycle ${cycle + 1} in the queue`;
  return `${which}: ticket ${b.ticketId}${b.acs.length > 1 ? ` (${b.acs.length} ACs together)` : ''}`;
}

function queueRow(ac: AcceptanceCriterion, at: { isNext: boolean; where: string; blocked?: boolean }): QueueRow {
  const { isNext, blocked = false } = at;
  const running = ac.status === 'IN_PROGRESS';
  const marks = [isNext && NEXT_MARK, running && IN_PROGRESS_MARK, ac.status === 'PARTIAL' && 'partial', blocked && BLOCKED_MARK].filter((m): m is string => typeof m === 'string');
  // A running AC keeps the in-progress icon even as the pointer: "a cycle is on it" is the news.
  const icon = blocked ? statusIcon('BLOCKED') : running ? statusIcon('IN_PROGRESS') : isNext ? { id: 'debug-stackframe', color: 'charts.green' } : statusIcon(ac.status);
  return {
    key: `ac:${ac.id}@${ac.source.file}:${ac.source.line}`,
    label: ac.id,
    description: [...marks, ac.title].join(' · '),
    tooltip: [`${ac.id} — ${ac.title}`, `Status: ${ac.status}${running ? ' (a cycle is working on it)' : ''}`, at.where, `${ac.source.file}:${ac.source.line}`].join('\n'),
    icon,
    contextValue: ['ac', `status:${ac.status}`, ...(isNext ? ['next'] : []), ...(blocked ? ['blocked'] : [])].join(';'),
    isNext,
    blocked,
    ac,
  };
}
