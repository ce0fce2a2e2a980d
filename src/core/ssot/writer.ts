import * as fs from 'node:fs/promises';
import { atomicWrite } from '../util/atomic-write';
import { FactoryError } from '../util/errors';
import { parseLedger } from './ledger';
import { scanDocument, splitRow } from './markdown';
import { parseRoadmap, statusLineValue } from './roadmap';
import { normalizeStatus } from './status-words';
import { readHeader, type Column } from './tables';

/**
 * Edits SSOT documents the way a careful human would: only the cells that must change are
 * rewritten; every other byte (line endings, BOM, padding, other rows) stays identical. Rows are
 * never added or removed here, and {@link editDocument} refuses any edit that loses an AC.
 */

export interface AcStatusUpdate {
  /** The status word to write, e.g. `DONE` (written as given). */
  status: string;
  evidence?: string;
  commit?: string;
}

export interface TicketStatusUpdate {
  status: string;
  done?: number;
  total?: number;
  /** Written after the status as `STATUS (reason)`, e.g. for BLOCKED. */
  reason?: string;
}

/**
 * Set an AC's status (and evidence/commit when given and the table has those columns). Looks in
 * ledger tables (`TICKET::AC-N` ids) first, then in roadmap per-ticket AC tables.
 * @throws FactoryError `ssot.ac-not-found` when no row has that id.
 */
export function setAcStatus(text: string, acId: string, update: AcStatusUpdate): string {
  const ledgerRow = parseLedger(text, '').acs.find((a) => a.id === acId);
  const row =
    ledgerRow ??
    parseRoadmap(text, '')
      .tickets.flatMap((t) => t.acs)
      .find((a) => a.id === acId && a.origin === 'table');
  if (!row) throw new FactoryError(`AC ${acId} not found in the document`, 'ssot.ac-not-found');
  assertStatusWord(update.status);
  const changes: Partial<Record<Column, string>> = { status: update.status };
  if (update.evidence !== undefined) changes.evidence = update.evidence;
  if (update.commit !== undefined) changes.commit = update.commit;
  return replaceCells(text, row.source.line - 1, changes, ['status']);
}

/**
 * Set a ticket's status: its step-table row (and DONE/TOTAL when given and present), or else the
 * first `**Status:**`/`**상태:**` line of its heading section.
 * @throws FactoryError `ssot.ticket-not-found` / `ssot.no-status` when there is nothing to edit.
 */
export function setTicketStatus(text: string, ticketId: string, update: TicketStatusUpdate): string {
  const parsed = parseRoadmap(text, '');
  const ticket = parsed.tickets.find((t) => t.id === ticketId);
  if (!ticket) throw new FactoryError(`ticket ${ticketId} not found in the document`, 'ssot.ticket-not-found');
  assertStatusWord(update.status);
  const status = update.reason ? `${update.status} (${update.reason})` : update.status;
  const { lines, blocks } = scanDocument(text);
  const line0 = ticket.source.line - 1;
  const inTable = blocks.some((b) => b.kind === 'table' && line0 >= b.line + 2 && line0 < b.endLine);
  if (inTable) {
    const changes: Partial<Record<Column, string>> = { status };
    const total = update.total ?? ticket.total;
    if (update.done !== undefined && total !== undefined) changes.progress = `${update.done}/${total}`;
    return replaceCells(text, line0, changes, ['status']);
  }
  // Heading section: the first status line before the next heading.
  const nextHeading = blocks.find((b) => b.kind === 'heading' && b.line > line0);
  const end = nextHeading && nextHeading.kind === 'heading' ? nextHeading.line : lines.length;
  for (let i = line0 + 1; i < end; i++) {
    const value = statusLineValue(lines[i]);
    if (value === undefined) continue;
    const start = valueOffset(lines[i], value);
    return replaceInLine(text, i, [{ start, end: start + value.length, value: status }]);
  }
  throw new FactoryError(`ticket ${ticketId} has no status cell or status line to edit`, 'ssot.no-status');
}

/**
 * Read `file`, apply `fn`, and write the result atomically when it changed. Refuses (throws
 * `ssot.ac-deleted`) when the new text lacks an AC id the old text had: the Controller never
 * deletes an AC (SEC-30). Refuses non-UTF-8 files rather than corrupting them.
 * @returns true when the file was written.
 */
export async function editDocument(file: string, fn: (text: string) => string | Promise<string>): Promise<boolean> {
  const bytes = await fs.readFile(file);
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) {
    throw new FactoryError(`${file} is not valid UTF-8; refusing to rewrite it`, 'ssot.not-utf8');
  }
  const next = await fn(text);
  if (next === text) return false;
  const after = acIds(next);
  const lost = [...acIds(text)].filter((id) => !after.has(id));
  if (lost.length > 0) {
    throw new FactoryError(`refusing to write ${file}: the edit deletes AC ${lost.slice(0, 5).join(', ')}`, 'ssot.ac-deleted');
  }
  await atomicWrite(file, next);
  return true;
}

/** AC ids a text defines: ledger rows and roadmap AC-table rows. */
function acIds(text: string): Set<string> {
  const ids = new Set(parseLedger(text, '').acs.map((a) => a.id));
  for (const t of parseRoadmap(text, '').tickets) for (const a of t.acs) if (a.origin === 'table') ids.add(a.id);
  return ids;
}

/** The writer only writes status words the parser will read back (no typo'd `DNOE`). */
function assertStatusWord(status: string): void {
  if (!normalizeStatus(status).known || /[\r\n|]/.test(status)) {
    throw new FactoryError(`"${status}" is not a status word the SSOT parser recognises`, 'ssot.bad-value');
  }
}

/** Escape a value for a table cell: pipes escaped, line breaks refused. */
function cellText(value: string): string {
  if (/[\r\n]/.test(value)) throw new FactoryError('a table cell value cannot contain a line break', 'ssot.bad-value');
  return value.replace(/(?<!\\)\|/g, '\\|');
}

function valueOffset(line: string, value: string): number {
  const m = /\*\*\s*(?:상태|Status)\s*(?::\s*\*\*|\*\*\s*:)\s*/i.exec(line);
  return m ? m.index + m[0].length : line.indexOf(value);
}

/** Replace the cells of `columns` in the table row at 0-based `line0`; `required` must exist. */
function replaceCells(text: string, line0: number, changes: Partial<Record<Column, string>>, required: Column[]): string {
  const { lines, blocks } = scanDocument(text);
  const table = blocks.find((b) => b.kind === 'table' && line0 >= b.line + 2 && line0 < b.endLine);
  if (!table || table.kind !== 'table') throw new FactoryError(`line ${line0 + 1} is not a table row`, 'ssot.not-a-row');
  const header = readHeader(table.rows[0] ?? '');
  const raw = lines[line0];
  // Offsets come from the raw line; a table inside a quote or list has container markers there
  // (`> | a |`) that the scanner stripped. Such tables are read but never edited.
  if (raw.trim() !== (table.rows[line0 - table.line] ?? '').trim()) {
    throw new FactoryError(`the table row at line ${line0 + 1} is inside a quote or list; edit it by hand`, 'ssot.not-a-row');
  }
  const cells = splitRow(raw);
  const edits: { start: number; end: number; value: string }[] = [];
  for (const [col, value] of Object.entries(changes) as [Column, string][]) {
    const i = header.index[col];
    if (i === undefined || cells[i] === undefined) {
      if (required.includes(col)) throw new FactoryError(`the table at line ${table.line + 1} has no ${col} column`, 'ssot.no-column');
      continue;
    }
    edits.push({ start: cells[i].start, end: cells[i].end, value: cellText(value) });
  }
  return replaceInLine(text, line0, edits);
}

/**
 * Apply edits (offsets within one line) to the raw text. Line starts are found in the raw text
 * with the same terminators the scanner uses (CRLF, CR, LF) and the BOM taken into account.
 */
function replaceInLine(text: string, line0: number, edits: { start: number; end: number; value: string }[]): string {
  let offset = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (let l = 0; l < line0; l++) {
    const nl = /\r\n|\r|\n/g;
    nl.lastIndex = offset;
    const m = nl.exec(text);
    if (!m) throw new FactoryError(`line ${line0 + 1} is past the end of the document`, 'ssot.not-a-row');
    offset = m.index + m[0].length;
  }
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) {
    // An empty cell (`|  |`) has a zero-width span at its end: keep a space before the value.
    const pad = e.start === e.end && out[offset + e.start - 1] === '|' ? ' ' : '';
    out = out.slice(0, offset + e.start) + pad + e.value + out.slice(offset + e.end);
  }
  return out;
}
