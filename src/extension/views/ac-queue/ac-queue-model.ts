import type { AcceptanceCriterion, SsotIndex } from '../../../core/ssot/model';
import { statusIcon, type RowView } from '../status-icon';

/** One row of the AC Queue view; built without `vscode` so it is unit-testable. */
export interface QueueRow extends RowView {
  isNext: boolean;
  ac: AcceptanceCriterion;
}

/** The marker the next AC carries in its description (what the Controller would pick). */
export const NEXT_MARK = 'next';

/**
 * The OPEN ACs in ledger order. The first one is the spec's queue pointer ("the Controller points
 * at the first OPEN entry from the top"), marked `next` with its own icon.
 */
export function buildQueueRows(index: SsotIndex): QueueRow[] {
  const open = index.ledger.filter((ac) => ac.status === 'OPEN');
  return open.map((ac, i) => {
    const isNext = i === 0;
    return {
      key: `ac:${ac.id}@${ac.source.file}:${ac.source.line}`,
      label: ac.id,
      description: isNext ? `${NEXT_MARK} · ${ac.title}` : ac.title,
      tooltip: [`${ac.id} — ${ac.title}`, isNext ? 'Next in the queue' : `Position ${i + 1} in the queue`, `${ac.source.file}:${ac.source.line}`].join('\n'),
      icon: isNext ? { id: 'debug-stackframe', color: 'charts.green' } : statusIcon(ac.status),
      contextValue: ['ac', 'status:OPEN', ...(isNext ? ['next'] : [])].join(';'),
      isNext,
      ac,
    };
  });
}
