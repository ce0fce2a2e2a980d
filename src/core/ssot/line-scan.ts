/**
 * A line-based block scanner for the plain Markdown SSOT documents are made of: ATX headings,
 * paragraphs (tables are paragraphs here, as in markdown.ts), thematic breaks, fenced code,
 * one-line list items and simple block quotes. It gives exactly the headings and paragraphs
 * markdown-it's block pass gives, or `undefined` as soon as a line could mean something it does
 * not model (indented code, HTML, nested or multi-line list items, lazy continuation, setext
 * headings, link reference definitions, tabs in indentation …): the caller then runs markdown-it.
 *
 * Why: the 50,000-row ledger is one paragraph to markdown-it, and its StateBlock (four arrays per
 * line) plus the terminator rules tried on every line were most of the indexing time and garbage.
 * test/unit/ssot/line-scan.test.ts compares both scanners on the corpus, the fixtures and
 * generated documents; any difference fails it.
 */

/** A heading, or a paragraph as its lines (markdown-it's inline content is `rows.join('\n')`). */
export type RawBlock =
  | { kind: 'heading'; level: number; line: number; text: string }
  | { kind: 'para'; line: number; rows: string[]; listItem: boolean };

const SPACE = 0x20;
const TAB = 0x09;

/** Count of leading spaces (not tabs). */
function indentOf(line: string): number {
  let p = 0;
  while (line.charCodeAt(p) === SPACE) p++;
  return p;
}

/** markdown-it trims block content of ASCII space, tab, CR and LF only (U+3000 stays). */
function trimStart(s: string): string {
  let a = 0;
  while (a < s.length && (s.charCodeAt(a) === SPACE || s.charCodeAt(a) === TAB)) a++;
  return a === 0 ? s : s.slice(a);
}

function trimEnd(s: string): string {
  let e = s.length;
  while (e > 0 && (s.charCodeAt(e - 1) === SPACE || s.charCodeAt(e - 1) === TAB)) e--;
  return e === s.length ? s : s.slice(0, e);
}

/** Only spaces and tabs (markdown-it's blank line). */
function isBlank(line: string, from: number): boolean {
  for (let i = from; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== SPACE && c !== TAB) return false;
  }
  return true;
}

/** A thematic break from `p` (after an indent of at most 3): 3+ of one of `*-_`, spaces and tabs between. */
function isHr(line: string, p: number): boolean {
  const ch = line.charCodeAt(p);
  if (ch !== 0x2a && ch !== 0x2d && ch !== 0x5f) return false;
  let count = 0;
  for (let i = p; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === ch) count++;
    else if (c !== SPACE && c !== TAB) return false;
  }
  return count >= 3;
}

/** A setext underline from `p`: a run of `=` or of `-`, then only spaces and tabs. */
function isSetext(line: string, p: number): boolean {
  const ch = line.charCodeAt(p);
  if (ch !== 0x3d && ch !== 0x2d) return false;
  let i = p;
  while (line.charCodeAt(i) === ch) i++;
  return isBlank(line, i);
}
const BULLET = /^([*+-])( {1,4})(?=\S)/;
const ORDERED = /^(\d+)([.)])( {1,4})(?=\S)/;
/** Anything that may start a list item (with or without content). */
const ITEMISH = /^(?:[*+-]|\d+[.)])(?:[ \t]|$)/;
const FENCE = /^(`{3,}|~{3,})([^]*)$/;

/** ATX heading at `p` (after the indent): level and content exactly as markdown-it's heading rule. */
function atxHeading(line: string, p: number): { level: number; text: string } | undefined {
  let level = 0;
  while (line.charCodeAt(p + level) === 0x23 && level < 7) level++;
  if (level === 0 || level > 6) return undefined;
  const pos = p + level;
  if (pos < line.length && line.charCodeAt(pos) !== SPACE && line.charCodeAt(pos) !== TAB) return undefined;
  let max = line.length;
  while (max > pos && (line.charCodeAt(max - 1) === SPACE || line.charCodeAt(max - 1) === TAB)) max--;
  let tmp = max;
  while (tmp > pos && line.charCodeAt(tmp - 1) === 0x23) tmp--;
  if (tmp > pos && (line.charCodeAt(tmp - 1) === SPACE || line.charCodeAt(tmp - 1) === TAB)) max = tmp;
  return { level, text: trimEnd(trimStart(line.slice(pos, max))) };
}

/**
 * True when a line (content from `p`) starts something other than paragraph text that this scanner
 * does not handle inside a paragraph, a list item or a quote: the caller gives up.
 */
function startsOther(line: string, p: number, refs: boolean): boolean {
  const c = line.charCodeAt(p);
  switch (c) {
    case 0x3e /* > */:
    case 0x3c /* < */:
      return true;
    case 0x23 /* # */:
      return atxHeading(line, p) !== undefined;
    case 0x60 /* ` */:
    case 0x7e /* ~ */:
      return FENCE.test(line.slice(p));
    case 0x3d /* = */:
      return isSetext(line, p);
    case 0x5f /* _ */:
      return isHr(line, p);
    case 0x5b /* [ */:
      return refs;
    case 0x2a /* * */:
    case 0x2b /* + */:
    case 0x2d /* - */:
      return ITEMISH.test(line.slice(p, p + 2)) || isHr(line, p) || isSetext(line, p);
    default:
      return c >= 0x30 && c <= 0x39 && /^\d+[.)]/.test(line.slice(p, p + 12));
  }
}

/**
 * A list item that interrupts a paragraph (markdown-it's list rule as a terminator): at column 0,
 * not empty, and an ordered one only if it starts at 1.
 */
function interruptsParagraph(line: string): boolean {
  if (BULLET.test(line)) return !isHr(line, 0);
  const m = ORDERED.exec(line);
  return m !== null && m[1].length <= 9 && Number(m[1]) === 1;
}

/** State of one pass; `undefined` from a step means "not modelled: use markdown-it". */
class LineScanner {
  private readonly out: RawBlock[] = [];
  private i = 0;
  private readonly lines: string[];
  private readonly n: number;
  private readonly refs: boolean;

  constructor(src: string) {
    this.lines = src.split('\n');
    this.n = src.endsWith('\n') ? this.lines.length - 1 : this.lines.length;
    // A link reference definition needs `]:`; without one anywhere, `[` starts plain text.
    this.refs = src.includes(']:');
  }

  run(): RawBlock[] | undefined {
    const { lines, n } = this;
    while (this.i < n) {
      const line = lines[this.i];
      const p = indentOf(line);
      if (line.charCodeAt(p) === TAB || p === line.length) {
        if (!isBlank(line, p)) return undefined;
        this.i++;
        continue;
      }
      if (p >= 4) return undefined; // indented code
      const ok = this.block(line, p);
      if (!ok) return undefined;
    }
    return this.out;
  }

  /** One block starting at line i (not blank, indent ≤ 3). */
  private block(line: string, p: number): boolean {
    const c = line.charCodeAt(p);
    if (c === 0x23) {
      const h = atxHeading(line, p);
      if (h) {
        this.out.push({ kind: 'heading', level: h.level, line: this.i, text: h.text });
        this.i++;
        return true;
      }
    }
    if (c === 0x60 || c === 0x7e) {
      const fence = this.fence(line, p);
      if (fence !== undefined) return fence;
    }
    if (isHr(line, p)) {
      this.i++;
      return true;
    }
    if (c === 0x3e) return this.quote();
    if (c === 0x2a || c === 0x2b || c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const item = this.list(line, p);
      if (item !== undefined) return item;
    }
    if (c === 0x3c || (c === 0x5b && this.refs)) return false; // HTML block, reference definition
    return this.paragraph();
  }

  /** A fenced code block (skipped: it holds no blocks); undefined when the line is not a fence. */
  private fence(line: string, p: number): boolean | undefined {
    const m = FENCE.exec(line.slice(p));
    if (!m) return undefined;
    const marker = m[1];
    if (marker.charCodeAt(0) === 0x60 && m[2].includes('`')) return false; // inline code, not a fence
    const ch = marker[0];
    for (let k = this.i + 1; k < this.n; k++) {
      const l = this.lines[k];
      const q = indentOf(l);
      if (q >= 4 || l[q] !== ch) continue;
      let e = q;
      while (l[e] === ch) e++;
      if (e - q >= marker.length && isBlank(l, e)) {
        this.i = k + 1;
        return true;
      }
    }
    this.i = this.n; // unclosed: runs to the end
    return true;
  }

  /** Paragraph from line i: until a blank line, a heading or a fence; anything else that could interrupt it → give up. */
  private paragraph(): boolean {
    const { lines, n } = this;
    const start = this.i;
    let k = start + 1;
    for (; k < n; k++) {
      const l = lines[k];
      const q = indentOf(l);
      const c = l.charCodeAt(q);
      if (c === 0x7c /* | */ || q >= 4) continue;
      if (q === l.length || c === TAB) {
        if (isBlank(l, q)) break;
        return false;
      }
      if (c === 0x23 && atxHeading(l, q)) break;
      if ((c === 0x60 || c === 0x7e) && FENCE.test(l.slice(q))) return this.closeBefore(start, k);
      if (q === 0 && interruptsParagraph(l)) return this.closeBefore(start, k);
      if (startsOther(l, q, false)) return false;
    }
    this.para(start, false, lines.slice(start, k));
    this.i = k;
    return true;
  }

  /** A paragraph ended by a fence or a list on line k: emit it, then let the main loop read what follows. */
  private closeBefore(start: number, k: number): boolean {
    this.para(start, false, this.lines.slice(start, k));
    this.i = k;
    return true;
  }

  /** A one-line list item; the next line must be blank or another item of the same list. */
  private list(line: string, p: number): boolean | undefined {
    if (!/^(?:[*+-]|\d+[.)])/.test(line.slice(p))) return undefined;
    const rest = line.slice(p);
    const m = BULLET.exec(rest) ?? ORDERED.exec(rest);
    if (!m || p > 0) return ITEMISH.test(rest) ? false : undefined;
    if (m.length === 4 && m[1].length > 9) return false;
    const marker = m.length === 4 ? m[2] : m[1];
    for (;;) {
      const l = this.lines[this.i];
      const mm = BULLET.exec(l) ?? ORDERED.exec(l);
      if (!mm || (mm.length === 4 ? mm[2] : mm[1]) !== marker || (mm.length === 4 && mm[1].length > 9)) return false;
      const from = mm[0].length;
      if (startsOther(l, from, this.refs) || l.charCodeAt(from) === 0x7c) return false;
      this.para(this.i, true, [l.slice(from)]);
      this.i++;
      if (this.i >= this.n) return true;
      const next = this.lines[this.i];
      if (isBlank(next, 0)) return this.afterList();
      if (!ITEMISH.test(next)) return false;
    }
  }

  /** Blank lines after a list: the next line must not be indented (it would continue an item). */
  private afterList(): boolean {
    while (this.i < this.n && isBlank(this.lines[this.i], 0)) this.i++;
    if (this.i >= this.n) return true;
    const l = this.lines[this.i];
    return l.charCodeAt(0) !== SPACE && l.charCodeAt(0) !== TAB;
  }

  /** `> text` lines: one paragraph; a blank `>`, nested blocks or lazy continuation → give up. */
  private quote(): boolean {
    const start = this.i;
    const rows: string[] = [];
    while (this.i < this.n && this.lines[this.i].charCodeAt(0) === 0x3e) {
      const l = this.lines[this.i];
      const from = l.charCodeAt(1) === SPACE ? 2 : 1;
      if (l.charCodeAt(from) === TAB) return false;
      const q = indentOf(l.slice(from));
      if (isBlank(l, from) || (rows.length === 0 && q >= 4) || startsOther(l, from + q, this.refs)) return false;
      rows.push(l.slice(from));
      this.i++;
    }
    if (rows.length === 0) return false; // indented `>`
    if (this.i < this.n && !isBlank(this.lines[this.i], 0)) return false; // lazy continuation
    this.para(start, false, rows);
    return true;
  }

  /** Emit a paragraph of `rows` (lines start..end), trimmed as markdown-it trims its content. */
  private para(start: number, listItem: boolean, rows: string[]): void {
    // Every row here has a character other than space and tab, so trimming stays within a row.
    const last = rows.length - 1;
    rows[0] = trimStart(rows[0]);
    rows[last] = trimEnd(rows[last]);
    this.out.push({ kind: 'para', line: start, rows, listItem });
  }
}

/**
 * Headings and paragraphs of a normalised document (LF only, no NUL), or undefined when the
 * document uses anything this scanner does not model exactly.
 */
export function scanLines(src: string): RawBlock[] | undefined {
  return new LineScanner(src).run();
}
