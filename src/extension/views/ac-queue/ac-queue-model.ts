import { isOpen, queueHead } from '../../../core/ssot/queue-order';
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
 * The open ledger ACs in the order the Controller takes them (spec §8-3), one batch per cycle:
 * the tickets in the order their first AC appears in the queue order (`queueHead`, the rule
 * `nextInQueue` reads too), each with its open ACs in ledger order, as `selectWork` batches them.
 * One pass over the ledger; the unit test checks it equals asking `nextInQueue`/`selectWork` for
 * every batch.
 */
function queueBatches(index: SsotIndex): Batch[] {
  const batches = new Map<string, AcceptanceCriterion[]>();
  // queueHead keeps only open ACs of tickets the queue may take (BLOCKED ones are left out).
  for (const a of queueHead(index, index.ledger, Infinity)) if (!batches.has(a.ticketId)) batches.set(a.ticketId, []);
  for (const a of index.ledger) if (isOpen(a)) batches.get(a.ticketId)?.push(a);
  return [...batches].map(([ticketId, acs]) => ({ ticketId, acs }));
}

/**
 * The AC Queue: the open ACs (OPEN, IN_PROGRESS, PARTIAL) in the order the Controller will take
 * them, one cycle per ticket. The first is the queue pointer, marked `next` with its own icon;
 * IN_PROGRESS ACs (a cycle is on them) say so with the in-progress icon. Open ACs of BLOCKED
 * tickets follow, marked `blocked`: they are not taken until the roadmap unblocks the ticket.
 */
export function buildQueueRows(index: SsotIndex): QueueRow[] {
  const rows: QueueRow[] = [];
  queueBatches(index).forEach((b, cycle) => {
    const where = cycleText(b, cycle);
    b.acs.forEach((ac, i) => rows.push(queueRow(ac, cycle === 0 && i === 0, where, false)));
  });
  const blockedTickets = new Map(index.tickets.filter((t) => t.status === 'BLOCKED').map((t) => [t.id, t] as const));
  for (const ac of index.ledger) {
    const t = blockedTickets.get(ac.ticketId);
    if (t && isOpen(ac)) rows.push(queueRow(ac, false, `Not taken: ticket ${ac.ticketId} is BLOCKED${t.blockedReason ? ` (${t.blockedReason})` : ''}`, true));
  }
  return rows;
}

function cycleText(b: Batch, cycle: number): string {
  const which = cycle === 0 ? 'Next cycle' : `Cycle ${cycle + 1} in the queue`;
  return `${which}: ticket ${b.ticketId}${b.acs.length > 1 ? ` (${b.acs.length} ACs together)` : ''}`;
}

const NEXT_ICON = { id: 'debug-stackframe', color: 'charts.green' };

function queueRow(ac: AcceptanceCriterion, isNext: boolean, where: string, blocked: boolean): QueueRow {
  const running = ac.status === 'IN_PROGRESS';
  let marks = isNext ? `${NEXT_MARK} · ` : '';
  if (running) marks += `${IN_PROGRESS_MARK} · `;
  else if (ac.status === 'PARTIAL') marks += 'partial · ';
  if (blocked) marks += `${BLOCKED_MARK} · `;
  // A running AC keeps the in-progress icon even as the pointer: "a cycle is on it" is the news.
  const icon = blocked ? statusIcon('BLOCKED') : running ? statusIcon('IN_PROGRESS') : isNext ? NEXT_ICON : statusIcon(ac.status);
  const at = `${ac.source.file}:${ac.source.line}`;
  return {
    key: `ac:${ac.id}@${at}`,
    label: ac.id,
    description: marks + ac.title,
    tooltip: `${ac.id} — ${ac.title}\nStatus: ${ac.status}${running ? ' (a cycle is working on it)' : ''}\n${where}\n${at}`,
    icon,
    contextValue: `ac;status:${ac.status}${isNext ? ';next' : ''}${blocked ? ';blocked' : ''}`,
    isNext,
    blocked,
    ac,
  };
}
