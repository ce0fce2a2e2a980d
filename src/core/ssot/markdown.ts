import MarkdownIt from 'markdown-it';
import type { Token } from 'markdown-it';

/**
 * Block-level view of a Markdown document, built from markdown-it's block tokenizer only.
 *
 * SSOT documents are large (the legacy roadmap is 360 KB) and re-indexed on every edit, so we skip
 * markdown-it's inline pass (which is ~85 % of a full parse) and read table cells ourselves from
 * the raw lines markdown-it says belong to a table. The same cell splitter is used by the writer,
 * which must know exactly which bytes form a cell.
 */

/** One block of interest, with 0-based line numbers (add 1 for diagnostics). */
export type Block =
  | { kind: 'heading'; level: number; line: number; text: string }
  /** Lines `[line, endLine)`: header row, delimiter row, body rows. */
  | { kind: 'table'; line: number; endLine: number }
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

// One shared instance: the block rules we need, nothing else. `html: true` so that raw HTML blocks
// are recognised as such and their content is not mistaken for tables or headings.
const md = new MarkdownIt('default', { html: true, linkify: false, typographer: false });

/** Split text into lines the way markdown-it counts them (CRLF, CR and LF each end a line). */
export function splitLines(text: string): string[] {
  return stripBom(text).split(/\r\n|\r|\n/);
}

export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Run markdown-it's block tokenizer and keep headings, tables and paragraph text. */
export function scanDocument(text: string): ScannedDocument {
  const body = stripBom(text);
  // markdown-it's core `normalize` rule does this before the block pass; we call the block
  // parser directly, so we normalise here (line count is unchanged).
  const normalized = body.replace(/\r\n?/g, '\n').replace(/\0/g, '\uFFFD');
  const tokens: Token[] = [];
  md.block.parse(normalized, md, {}, tokens);
  const blocks: Block[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    switch (t.type) {
      case 'heading_open': {
        const inline = tokens[i + 1];
        if (t.map && inline) blocks.push({ kind: 'heading', level: Number(t.tag.slice(1)), line: t.map[0], text: inline.content });
        i += 2;
        break;
      }
      case 'table_open':
        if (t.map) blocks.push({ kind: 'table', line: t.map[0], endLine: t.map[1] });
        // Skip to the matching close: cells are read from raw lines.
        while (i < tokens.length && tokens[i].type !== 'table_close') i++;
        break;
      case 'paragraph_open': {
        const inline = tokens[i + 1];
        const prev = tokens[i - 1];
        if (t.map && inline) blocks.push({ kind: 'text', line: t.map[0], text: inline.content, listItem: prev?.type === 'list_item_open' });
        i += 2;
        break;
      }
      default:
        break;
    }
  }
  return { lines: body.split(/\r\n|\r|\n/), blocks };
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
  return cell.replace(/\*\*|__|`/g, '').trim();
}
