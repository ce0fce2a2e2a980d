import type { Diagnostic } from './model';
import { headerKey, splitCells } from './markdown';

/**
 * Table columns are found by header NAME, never by position: the same ledger exists with
 * `AC_ID|STATUS|…`, `AC|상태|…` and other orders. Aliases are matched case-insensitively with
 * spaces, `_`, `-` and markup ignored (see {@link headerKey}).
 */
export type Column = 'id' | 'title' | 'stage' | 'status' | 'evidence' | 'commit' | 'dupGroup' | 'notes' | 'step' | 'progress';

const ALIASES: Record<string, Column> = {
  ACID: 'id',
  AC: 'id',
  ID: 'id',
  TITLE: 'title',
  GOAL: 'title',
  NAME: 'title',
  목표: 'title',
  제목: 'title',
  STAGE: 'stage',
  단계: 'stage',
  STATUS: 'status',
  STATE: 'status',
  상태: 'status',
  EVIDENCE: 'evidence',
  CANONICALEVIDENCE: 'evidence',
  증거: 'evidence',
  COMMIT: 'commit',
  LASTCOMMIT: 'commit',
  커밋: 'commit',
  DUPGROUPKEY: 'dupGroup',
  DUPGROUP: 'dupGroup',
  NOTES: 'notes',
  NOTE: 'notes',
  비고: 'notes',
  메모: 'notes',
  STEP: 'step',
  TICKET: 'step',
  TICKETID: 'step',
  티켓: 'step',
  DONETOTAL: 'progress',
  PROGRESS: 'progress',
  진행률: 'progress',
};

/** The column a header cell names, if it is one we read. */
export function columnOf(header: string): Column | undefined {
  return ALIASES[headerKey(header)];
}

export interface TableRow {
  /** 0-based line of the row. */
  line: number;
  cells: string[];
}

export interface TableView {
  /** 0-based line of the header row. */
  headerLine: number;
  width: number;
  /** Column → index of its cell. The first header naming a column wins. */
  index: Partial<Record<Column, number>>;
  rows: TableRow[];
}

/** Map a table's header row (its first line) to columns. */
export function readHeader(headerLine: string): { width: number; index: Partial<Record<Column, number>> } {
  const header = splitCells(headerLine);
  const index: Partial<Record<Column, number>> = {};
  header.forEach((cell, i) => {
    const col = columnOf(cell);
    if (col && index[col] === undefined) index[col] = i;
  });
  return { width: header.length, index };
}

/**
 * Read the body rows of a table we consume. Rows whose cell count differs from the header cannot
 * be mapped to columns reliably: they get a diagnostic (1-based line) and are left out.
 */
export function readTable(table: { line: number; rows: string[] }, file: string, diagnostics: Diagnostic[]): TableView {
  const start = table.line;
  const { width, index } = readHeader(table.rows[0] ?? '');
  const rows: TableRow[] = [];
  // rows[1] is the delimiter row.
  for (let k = 2; k < table.rows.length; k++) {
    const line = start + k;
    const cells = splitCells(table.rows[k]);
    if (cells.length !== width) {
      diagnostics.push(rowCellsProblem(file, line + 1, cells.length, start + 1, width));
      continue;
    }
    rows.push({ line, cells });
  }
  return { headerLine: start, width, index, rows };
}

/** A row whose cell count differs from its header's (1-based lines). */
export function rowCellsProblem(file: string, line: number, cells: number, headerLine: number, width: number): Diagnostic {
  return {
    file,
    line,
    severity: 'warning',
    code: 'ssot.row-cells',
    message: `table row has ${cells} cells but its header (line ${headerLine}) has ${width}; row ignored`,
  };
}

/** The value of a column in a row, or undefined when the table has no such column. */
export function cellOf(table: TableView, row: TableRow, col: Column): string | undefined {
  const i = table.index[col];
  return i === undefined ? undefined : row.cells[i];
}
