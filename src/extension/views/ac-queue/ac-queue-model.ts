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
 * The open ledger ACs in the order the Controller takes them (spec §8-3), one batch per cycle:
 * the ticket of `nextInQueue` with the open ACs `selectWork` batches for it, then the next ticket
 * of what is left. `nextInQueue` first prefers work already started (an IN_PROGRESS AC, a ticket
 * the roadmap marks IN_PROGRESS): those few tickets are picked by the queue module one at a time.
 * After them it takes the first open AC in ledger order every time, so the remaining batches are
 * the tickets in the order of their first open AC — grouped in one pass, because asking the queue
 * per ticket re-scans the ledger each time (seconds on a thousand tickets). The unit test checks
 * this equals asking `nextInQueue`/`selectWork` for every batch.
 */
function queueBatches(index: SsotIndex): Batch[] {
  const statusOf = new Map(index.tickets.map((t) => [t.id, t.status] as const));
  // Only open ACs of tickets the queue may take count (selectWork batches open ACs only).
  let rest: SsotIndex = { ...index, ledger: index.ledger.filter((a) => isOpen(a) && statusOf.get(a.ticketId) !== 'BLOCKED') };
  const started = (a: AcceptanceCriterion): boolean => a.status === 'IN_PROGRESS' || statusOf.get(a.ticketId) === 'IN_PROGRESS';
  const batches: Batch[] = [];
  for (let next = rest.ledger.some(started) ? nextInQueue(rest) : undefined; next; next = rest.ledger.some(started) ? nextInQueue(rest) : undefined) {
    const ticketId = next.ticketId;
    batches.push({ ticketId, acs: selectWork(rest, ticketId).acs });
    // The cycle closes its ticket's ACs: the queue moves on to the next ticket.
    rest = { ...rest, ledger: rest.ledger.filter((a) => a.ticketId !== ticketId) };
  }
  const tail = new Map<string, AcceptanceCriterion[]>();
  for (const a of rest.ledger) {
    const acs = tail.get(a.ticketId);
    if (acs) acs.push(a);
    else tail.set(a.ticketId, [a]);
  }
  return batches.concat([...tail].map(([ticketId, acs]) => ({ ticketId, acs })));
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
