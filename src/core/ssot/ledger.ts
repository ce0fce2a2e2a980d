import type { AcceptanceCriterion, Diagnostic } from './model';
import { firstLines, plainCell, scanDocument, splitCells } from './markdown';
import { normalizeStatus } from './status-words';
import { readHeader, rowCellsProblem } from './tables';

/** The AC ledger (docs/v2/design/AC_LEDGER.md) as read: preamble, rows in order, diagnostics. */
export interface LedgerParse {
  file: string;
  /** `key: value` lines before the table (generated_at, queue_policy …). */
  meta: Record<string, string>;
  /** Rows in ledger order: the queue. */
  acs: AcceptanceCriterion[];
  /** 0-based line of the first AC table's header, if any (for reporting). */
  headerLine?: number;
  diagnostics: Diagnostic[];
}

// `s` (dotAll) on every `\s*(.*)$`: without it a U+2028 after a run of spaces makes `$` fail and
// the two quantifiers backtrack quadratically (SEC-18).
const META_RE = /^([A-Za-z_][\w.-]*)\s*:\s*(.*)$/s;

/**
 * Split a ledger id `TICKET::AC-N` into its parts. The ticket part is everything before the LAST
 * `::` so ids stay unambiguous even if a ticket name were to contain `:`.
 */
export function splitAcId(id: string): { ticketId: string; localId: string } | undefined {
  const at = id.lastIndexOf('::');
  if (at <= 0 || at + 2 >= id.length) return undefined;
  return { ticketId: id.slice(0, at).trim(), localId: id.slice(at + 2).trim() };
}

/**
 * Parse the AC ledger. Every table whose header names an AC id column and a status column is
 * read (columns by name, any order); other tables are ignored.
 */
export function parseLedger(text: string, file: string): LedgerParse {
  const { blocks } = scanDocument(text);
  const diagnostics: Diagnostic[] = [];
  const meta: Record<string, string> = {};
  const acs: AcceptanceCriterion[] = [];
  let headerLine: number | undefined;

  const firstTable = blocks.find((b) => b.kind === 'table');
  // The preamble is what precedes the first table (a document without a table has no rows, and
  // its first 50 lines are enough to show what it is).
  const preamble = firstLines(text, firstTable ? firstTable.line : 50);
  for (const line of preamble) {
    const m = META_RE.exec(line);
    if (m) meta[m[1]] = m[2].trim();
  }

  for (const block of blocks) {
    if (block.kind !== 'table') continue;
    const header = readHeader(block.rows[0] ?? '');
    if (header.index.id === undefined || header.index.status === undefined) continue;
    headerLine ??= block.line;
    readAcRows(block, header, file, diagnostics, acs);
  }
  return { file, meta, acs, headerLine, diagnostics };
}

type Header = ReturnType<typeof readHeader>;

/**
 * The rows of one AC table, in one pass (readTable's rules: a row whose cell count differs from the
 * header is left out with a diagnostic). Its diagnostics come first, as they did when readTable
 * read the whole table before the rows were checked.
 */
function readAcRows(block: { line: number; rows: string[] }, header: Header, file: string, diagnostics: Diagnostic[], acs: AcceptanceCriterion[]): void {
  const { width, index } = header;
  const rowProblems: Diagnostic[] = [];
  const col = (cells: string[], i: number | undefined) => (i === undefined ? undefined : cells[i]);
  // rows[1] is the delimiter row.
  for (let k = 2; k < block.rows.length; k++) {
    const cells = splitCells(block.rows[k]);
    const line = block.line + k + 1;
    if (cells.length !== width) {
      diagnostics.push(rowCellsProblem(file, line, cells.length, block.line + 1, width));
      continue;
    }
    const id = plainCell(col(cells, index.id) ?? '');
    if (id === '') {
      rowProblems.push({ file, line, severity: 'warning', code: 'ssot.missing-id', message: 'ledger row has no AC id; row ignored' });
      continue;
    }
    const parts = splitAcId(id);
    if (!parts) {
      rowProblems.push({ file, line, severity: 'warning', code: 'ssot.bad-ac-id', message: `ledger AC id "${id}" is not of the form TICKET::AC-N; row ignored` });
      continue;
    }
    const rawStatus = plainCell(col(cells, index.status) ?? '');
    const norm = normalizeStatus(rawStatus);
    if (!norm.known) rowProblems.push({ file, line, severity: 'warning', code: 'ssot.unknown-status', message: `unknown status "${rawStatus}" for ${id}` });
    acs.push({
      // The id as written when it has no space around `::` (no new string per row).
      id: parts.ticketId.length + parts.localId.length + 2 === id.length ? id : `${parts.ticketId}::${parts.localId}`,
      ticketId: parts.ticketId,
      localId: parts.localId,
      title: col(cells, index.title)?.trim() ?? '',
      status: norm.status,
      rawStatus,
      evidence: optional(col(cells, index.evidence)),
      commit: optional(col(cells, index.commit)),
      stage: optional(col(cells, index.stage)),
      notes: optional(col(cells, index.notes)),
      origin: 'ledger',
      source: { file, line },
    });
  }
  for (const d of rowProblems) diagnostics.push(d);
}

function optional(cell: string | undefined): string | undefined {
  return cell === undefined ? undefined : plainCell(cell);
}
