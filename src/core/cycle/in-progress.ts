/**
 * Spec §8-3: the ACs a cycle works on read IN_PROGRESS in the ledger while it runs. The mark is
 * written at the start of DO with the cell-only writer; every end but PASS (FAIL, TIMEOUT,
 * BLOCKED, an abort, a crash recovered on the next start) puts the previous cells back byte for
 * byte, so the tree is as clean as PLAN found it. PASS needs nothing: ADJUST writes DONE over it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FactoryConfig } from '../config/schema';
import { isOpen } from '../plan/queue';
import { parseLedger } from '../ssot/ledger';
import { scanDocument, splitRow } from '../ssot/markdown';
import { normalizeStatus } from '../ssot/status-words';
import { readHeader } from '../ssot/tables';
import { editDocument, setAcStatus } from '../ssot/writer';
import { faultPoint, type CycleContext } from './cycle-context';
import { writeCycleState } from './cycle-state';

/** AC id → its ledger status cell exactly as written. */
export type AcStatuses = Record<string, string>;

const MARK = 'IN_PROGRESS';

/**
 * Mark `acIds` IN_PROGRESS in the ledger (`config.ssot.ledger`). Only open ACs (OPEN, PARTIAL)
 * change: ACs already IN_PROGRESS, closed, or not in the ledger (a roadmap-only AC) are left
 * alone. `beforeWrite` receives the previous cells before the ledger changes, so a caller can
 * persist them first and a crash in between loses nothing.
 * @returns the previous status cell of every AC it marked.
 */
export async function markInProgress(root: string, config: FactoryConfig, acIds: readonly string[], beforeWrite?: (previous: AcStatuses) => Promise<void>): Promise<AcStatuses> {
  const file = path.join(root, config.ssot.ledger);
  const previous: AcStatuses = {};
  if (!fs.existsSync(file)) return previous;
  const text = await fs.promises.readFile(file, 'utf8');
  const rows = new Map(parseLedger(text, '').acs.map((a) => [a.id, a] as const));
  for (const id of acIds) {
    const row = rows.get(id);
    if (!row || row.status === MARK || !isOpen(row) || id in previous) continue;
    const cell = statusCell(text, row.source.line - 1);
    if (cell !== undefined) previous[id] = cell;
  }
  const ids = Object.keys(previous);
  if (ids.length === 0) return previous;
  await beforeWrite?.(previous);
  await editDocument(file, (t) => ids.reduce((out, id) => setAcStatus(out, id, { status: MARK }), t));
  return previous;
}

/**
 * Put back the cells {@link markInProgress} replaced — only where our IN_PROGRESS still stands, so
 * a status someone set since (or ADJUST's DONE) is never overwritten. Idempotent.
 */
export async function restoreStatuses(root: string, config: FactoryConfig, previous: AcStatuses | undefined): Promise<void> {
  const entries = Object.entries(previous ?? {});
  const file = path.join(root, config.ssot.ledger);
  if (entries.length === 0 || !fs.existsSync(file)) return;
  await editDocument(file, (text) => {
    const marked = new Set(parseLedger(text, '').acs.filter((a) => a.status === MARK).map((a) => a.id));
    // A cell the parser would not read back is never written; the canonical word stands in for it.
    return entries.reduce((out, [id, cell]) => (marked.has(id) ? setAcStatus(out, id, { status: normalizeStatus(cell).known ? cell : 'OPEN' }) : out), text);
  });
}

/** The cycle's marking: the previous cells go into cycle_state.json (for recovery) before the ledger changes. */
export async function markCycleInProgress(ctx: CycleContext): Promise<void> {
  await markInProgress(ctx.root, ctx.config, ctx.state.acIds, async (previous) => {
    ctx.state.acStatusBefore = previous;
    await writeCycleState(ctx.statePath, ctx.state);
  });
  faultPoint('PLAN:marked');
}

/** Undo the cycle's marking (a non-PASS end records a clean ledger). */
export async function restoreCycleStatuses(ctx: CycleContext): Promise<void> {
  await restoreStatuses(ctx.root, ctx.config, ctx.state.acStatusBefore);
}

/** The status cell of the table row at 0-based `line0`, as written (undefined: not a table row with a status column). */
function statusCell(text: string, line0: number): string | undefined {
  const { lines, blocks } = scanDocument(text);
  const table = blocks.find((b) => b.kind === 'table' && line0 >= b.line + 2 && line0 < b.endLine);
  if (!table || table.kind !== 'table') return undefined;
  const i = readHeader(table.rows[0] ?? '').index.status;
  const line = lines[line0];
  return i === undefined || line === undefined ? undefined : splitRow(line)[i]?.value;
}
