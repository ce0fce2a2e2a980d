import type { Token } from 'markdown-it';
import type * as MarkdownItBlocks from './markdown-it-blocks';
import { scanLines, type RawBlock } from './line-scan';

/**
 * Block-level view of a Markdown document, built from markdown-it's block tokenizer only.
 *
 * SSOT documents are large (the legacy roadmap is 360 KB) and re-indexed on every edit, so we skip
 * markdown-it's inline pass (~75 % of a full parse). markdown-it's `table` rule is disabled too:
 * it allocates a token per cell (tr/td/inline/close), which was a quarter of the block pass on the
 * corpus and 1.3 s on a 200,000-row table. With it off, a table arrives as a paragraph whose lines
 * we recognise with GFM's header + delimiter-row test and split with {@link splitRow} — the same
 * splitter the writer uses, so reading and editing agree on which bytes form a cell.
 */

/** One block of interest, with 0-based line numbers (add 1 for diagnostics). */
export type Block =
  | { kind: 'heading'; level: number; line: number; text: string }
  /**
   * Lines `[line, endLine)`: header row, delimiter row, body rows. `rows[k]` is the text of line
   * `line + k` with container markers (`> `, list indentation) stripped.
   */
  | { kind: 'table'; line: number; endLine: number; rows: string[] }
  /**
   * Paragraph text (inline content as markdown-it collected it, container markers stripped).
   * `listItem` is true for the first paragraph of a list item (where a `[x]` checkbox lives).
   */
  | { kind: 'text'; line: number; text: string; listItem: boolean };

export interface ScannedDocument {
  /** Lines without their terminators (CRLF, CR or LF), BOM removed. */
  lines: string[];
  blocks: Block[];
}

let markdownIt: typeof MarkdownItBlocks | undefined;

/**
 * Tokens of markdown-it's block pass (exported for the equivalence test with stock markdown-it).
 * markdown-it is required on first use, synchronously: most SSOT documents never need it, and
 * loading it was a third of `factory status`'s start-up (issue 18).
 */
export function blockTokens(normalized: string): Token[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy and synchronous on purpose (scanDocument is sync); the bundlers follow it
  markdownIt ??= require('./markdown-it-blocks') as typeof MarkdownItBlocks;
  return markdownIt.blockTokens(normalized);
}

const DELIMITER_CELL = /^:?-+:?$/;

/**
 * A GFM delimiter row: `|---|:--:|`, `--- | ---`. Checked cell by cell: one regex over the whole
 * row backtracks quadratically on a long run of dashes and spaces (SEC-18).
 */
function isDelimiterRow(line: string): boolean {
  const cells = splitCells(line);
  return cells.length > 0 && cells.every((c) => DELIMITER_CELL.test(c));
}

/** Index of the paragraph line that starts a table (header + delimiter row), or -1. */
function tableStart(rows: string[]): number {
  for (let i = 0; i + 1 < rows.length; i++) {
    const next = rows[i + 1];
    if (!next.includes('-') || !rows[i].includes('|') || !next.includes('|')) continue;
    if (isDelimiterRow(next) && splitCells(rows[i]).length === splitCells(next).length) return i;
  }
  return -1;
}

/** The first `n` lines of a text (CRLF, CR and LF each end a line; BOM removed). */
export function firstLines(text: string, n: number): string[] {
  const body = stripBom(text);
  const out: string[] = [];
  const nl = /\r\n|\r|\n/g;
  let from = 0;
  while (out.length < n) {
    const m = nl.exec(body);
    if (!m) {
      out.push(body.slice(from));
      break;
    }
    out.push(body.slice(from, m.index));
    from = m.index + m[0].length;
  }
  return out;
}

export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Headings and paragraphs of a normalised document: the line scanner (line-scan.ts) when the
 * document is plain enough for it, else markdown-it's block tokenizer. Both give the same blocks
 * (test/unit/ssot/line-scan.test.ts).
 */
function rawBlocks(normalized: string, lineScan: boolean): RawBlock[] {
  return (lineScan ? scanLines(normalized) : undefined) ?? markdownItBlocks(normalized);
}

/** Headings and paragraphs from markdown-it's token stream. */
function markdownItBlocks(normalized: string): RawBlock[] {
  const tokens = blockTokens(normalized);
  const out: RawBlock[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.type === 'heading_open') {
      const inline = tokens[i + 1];
      if (t.map && inline) out.push({ kind: 'heading', level: Number(t.tag.slice(1)), line: t.map[0], text: inline.content });
      i += 2;
    } else if (t.type === 'paragraph_open') {
      const inline = tokens[i + 1];
      const prev = tokens[i - 1];
      i += 2;
      if (t.map && inline) out.push({ kind: 'para', line: t.map[0], rows: inline.content.split('\n'), listItem: prev?.type === 'list_item_open' });
    }
  }
  return out;
}

/**
 * Scan a document into headings, tables and paragraph text. `lineScan: false` forces markdown-it
 * (the equivalence test compares the two).
 */
export function scanDocument(text: string, opts: { lineScan?: boolean } = {}): ScannedDocument {
  const body = stripBom(text);
  // markdown-it's core `normalize` rule does this before the block pass; we call the block
  // parser directly, so we normalise here (line count is unchanged).
  let normalized = body.includes('\r') ? body.replace(/\r\n?/g, '\n') : body;
  if (normalized.includes('\0')) normalized = normalized.replace(/\0/g, '\uFFFD');
  const blocks: Block[] = [];
  for (const b of rawBlocks(normalized, opts.lineScan !== false)) {
    if (b.kind === 'heading') {
      blocks.push(b);
      continue;
    }
    const { rows, line: start, listItem } = b;
    const at = rows.length > 1 ? tableStart(rows) : -1;
    if (at < 0) {
      blocks.push({ kind: 'text', line: start, text: rows.length === 1 ? rows[0] : rows.join('\n'), listItem });
      continue;
    }
    if (at > 0) blocks.push({ kind: 'text', line: start, text: rows.slice(0, at).join('\n'), listItem });
    blocks.push({ kind: 'table', line: start + at, endLine: start + rows.length, rows: at === 0 ? rows : rows.slice(at) });
  }
  // Lines are split only if asked for (the writer, the ledger preamble): on a 50,000-row ledger
  // that array is a measurable share of the garbage.
  let lines: string[] | undefined;
  return {
    blocks,
    get lines() {
      return (lines ??= body.split(/\r\n|\r|\n/));
    },
  };
}

/** A table cell as it appears in a raw line: trimmed, `\|` unescaped, and its exact span. */
export interface RawCell {
  value: string;
  /** Start/end (exclusive) offsets of the cell's content in the line, whitespace excluded. */
  start: number;
  end: number;
}

/**
 * Split one table row into cells (GFM rules: unescaped `|` separates cells, an optional leading
 * and trailing pipe is dropped). Offsets let the writer replace exactly one cell's text.
 */
export function splitRow(line: string): RawCell[] {
  const cells: RawCell[] = [];
  let pos = 0;
  const len = line.length;
  while (pos < len && (line[pos] === ' ' || line[pos] === '\t')) pos++;
  if (line[pos] === '|') pos++;
  let cellStart = pos;
  for (let i = pos; i < len; i++) {
    if (line.charCodeAt(i) === 0x7c /* | */ && line.charCodeAt(i - 1) !== 0x5c /* \ */) {
      cells.push(makeCell(line, cellStart, i));
      cellStart = i + 1;
    }
  }
  // What follows the last pipe is a cell unless it is blank (the optional trailing pipe).
  const rest = makeCell(line, cellStart, len);
  if (rest.value !== '' || cells.length === 0) cells.push(rest);
  return cells;
}

/**
 * Cell values only — the same rules as {@link splitRow} without span objects. Parsers read
 * hundreds of thousands of cells; the spans are needed only by the writer.
 */
export function splitCells(line: string): string[] {
  const cells: string[] = [];
  let pos = 0;
  const len = line.length;
  while (pos < len && (line.charCodeAt(pos) === 0x20 || line.charCodeAt(pos) === 0x09)) pos++;
  if (line.charCodeAt(pos) === 0x7c) pos++;
  let cellStart = pos;
  for (let i = pos; i < len; i++) {
    if (line.charCodeAt(i) === 0x7c && line.charCodeAt(i - 1) !== 0x5c) {
      cells.push(cellValue(line, cellStart, i));
      cellStart = i + 1;
    }
  }
  const rest = cellValue(line, cellStart, len);
  if (rest !== '' || cells.length === 0) cells.push(rest);
  return cells;
}

function cellValue(line: string, from: number, to: number): string {
  // Skip ASCII spaces and tabs by hand (one slice per cell instead of two); anything else that
  // String#trim removes (U+3000, NBSP …) is left to trim itself.
  while (from < to && (line.charCodeAt(from) === 0x20 || line.charCodeAt(from) === 0x09)) from++;
  while (to > from && (line.charCodeAt(to - 1) === 0x20 || line.charCodeAt(to - 1) === 0x09)) to--;
  let raw = line.slice(from, to);
  if (from < to && (line.charCodeAt(from) > 0x7e || line.charCodeAt(from) < 0x21 || line.charCodeAt(to - 1) > 0x7e || line.charCodeAt(to - 1) < 0x21)) raw = raw.trim();
  return raw.includes('\\|') ? raw.replace(/\\\|/g, '|') : raw;
}

function makeCell(line: string, from: number, to: number): RawCell {
  let s = from;
  let e = to;
  while (s < e && (line[s] === ' ' || line[s] === '\t')) s++;
  while (e > s && (line[e - 1] === ' ' || line[e - 1] === '\t')) e--;
  const raw = line.slice(s, e);
  return { value: raw.includes('\\|') ? raw.replace(/\\\|/g, '|') : raw, start: s, end: e };
}

/**
 * Normalise a header cell for alias lookup: case-insensitive, markup, spaces, `_`, `-` and `/`
 * ignored (`Last Commit`, `LAST_COMMIT`, `**Status**` all match).
 */
export function headerKey(cell: string): string {
  return cell.replace(/[\s*_`\-/.:]+/g, '').toUpperCase();
}

/** Strip bold/code markup and surrounding space from a cell value. */
export function plainCell(cell: string): string {
  // Most cells carry no markup: skip the regex (and its copy) for them.
  const bare = cell.includes('*') || cell.includes('_') || cell.includes('`') ? cell.replace(/\*\*|__|`/g, '') : cell;
  return bare.trim();
}
