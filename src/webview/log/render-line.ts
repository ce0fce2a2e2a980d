/**
 * One log line → DOM nodes. Text goes in ONLY through `textContent` / text nodes (never innerHTML),
 * so `<img src=x onerror=…>` or `</script>` in a log is shown, not parsed (SECURITY 20). Colours are
 * classes for the 16-colour palette (mapped to `--vscode-terminal-ansi*` in main.css) and CSSOM
 * `style.color` for 256/true colours (CSSOM writes are allowed by the CSP; style attributes are not).
 */
import { parseAnsiLine, type Segment, type SgrState } from './ansi';

/** Lines longer than this are cut for display (search still sees the whole line). */
export const MAX_RENDERED_CHARS = 10_000;

const CUBE = [0, 95, 135, 175, 215, 255];

/** CSS colour of an xterm 256-colour index ≥ 16 or a `#rrggbb` string. */
export function cssColour(c: number | string): string {
  if (typeof c === 'string') return c;
  if (c >= 232) {
    const v = 8 + (c - 232) * 10;
    return `rgb(${v}, ${v}, ${v})`;
  }
  const n = c - 16;
  return `rgb(${CUBE[Math.floor(n / 36) % 6]}, ${CUBE[Math.floor(n / 6) % 6]}, ${CUBE[n % 6]})`;
}

function styleSpan(span: HTMLElement, s: SgrState): void {
  const fg = s.inverse ? (s.bg ?? 'bg') : s.fg;
  const bg = s.inverse ? (s.fg ?? 'fg') : s.bg;
  if (fg === 'bg') span.classList.add('ansi-fg-inverse');
  else if (typeof fg === 'number' && fg < 16) span.classList.add(`ansi-fg-${fg}`);
  else if (fg !== null) span.style.color = cssColour(fg);
  if (bg === 'fg') span.classList.add('ansi-bg-inverse');
  else if (typeof bg === 'number' && bg < 16) span.classList.add(`ansi-bg-${bg}`);
  else if (bg !== null) span.style.backgroundColor = cssColour(bg);
  if (s.bold) span.classList.add('ansi-bold');
  if (s.dim) span.classList.add('ansi-dim');
  if (s.italic) span.classList.add('ansi-italic');
  if (s.underline) span.classList.add('ansi-underline');
  if (s.strike) span.classList.add('ansi-strike');
}

function isPlain(s: SgrState): boolean {
  return s.fg === null && s.bg === null && !s.bold && !s.dim && !s.italic && !s.underline && !s.inverse && !s.strike;
}

/** Case-insensitive match ranges of `query` in `text`. */
export function matchRanges(text: string, query: string): Array<[number, number]> {
  if (!query) return [];
  const out: Array<[number, number]> = [];
  const hay = text.toLowerCase();
  const needle = query.toLowerCase();
  for (let at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, at + needle.length)) out.push([at, at + needle.length]);
  return out;
}

/** Appends `text` to `parent`, wrapping the parts inside `ranges` (offsets from `offset`) in <mark>. */
function appendWithMarks(doc: Document, parent: HTMLElement, text: string, offset: number, ranges: Array<[number, number]>): void {
  let pos = 0;
  for (const [a, b] of ranges) {
    const from = Math.max(a - offset, pos);
    const to = Math.min(b - offset, text.length);
    if (to <= from) continue;
    if (from > pos) parent.appendChild(doc.createTextNode(text.slice(pos, from)));
    const mark = doc.createElement('mark');
    mark.textContent = text.slice(from, to);
    parent.appendChild(mark);
    pos = to;
  }
  if (pos < text.length) parent.appendChild(doc.createTextNode(text.slice(pos)));
}

/** The segments of a line, cut to MAX_RENDERED_CHARS. */
export function displaySegments(line: string, start: SgrState): { segments: Segment[]; cut: number } {
  const { segments } = parseAnsiLine(line.length > MAX_RENDERED_CHARS * 4 ? line.slice(0, MAX_RENDERED_CHARS * 4) : line, start);
  let left = MAX_RENDERED_CHARS;
  const out: Segment[] = [];
  let total = 0;
  for (const s of segments) total += s.text.length;
  for (const s of segments) {
    if (left <= 0) break;
    out.push(s.text.length > left ? { ...s, text: s.text.slice(0, left) } : s);
    left -= s.text.length;
  }
  const shown = Math.min(total, MAX_RENDERED_CHARS);
  return { segments: out, cut: Math.max(0, line.length > MAX_RENDERED_CHARS * 4 ? line.length - shown : total - shown) };
}

/**
 * Status emoji the Gate's own log writes (`ALL GATES PASS ✅`, `GATE FAIL ❌`) are in few monospace
 * fonts (an empty box in most): drawn as the codicon the panel uses for that status instead, the
 * word kept for screen readers and copy (aria-label, title).
 */
const GLYPHS: Record<string, { icon: string; cls: string; word: string }> = {
  '\u2705': { icon: 'pass', cls: 'st-pass', word: 'PASS' },
  '\u274C': { icon: 'error', cls: 'st-fail', word: 'FAIL' },
};
const GLYPH_RE = /[\u2705\u274C]/;

/** Appends `text` as text nodes, each status emoji of {@link GLYPHS} as its codicon. */
function appendText(doc: Document, parent: HTMLElement, text: string): void {
  if (!GLYPH_RE.test(text)) {
    parent.appendChild(doc.createTextNode(text));
    return;
  }
  for (const part of text.split(/([\u2705\u274C])/)) {
    const g = GLYPHS[part];
    if (!g) {
      if (part) parent.appendChild(doc.createTextNode(part));
      continue;
    }
    const icon = doc.createElement('span');
    icon.className = `codicon codicon-${g.icon} log-glyph ${g.cls}`;
    icon.setAttribute('role', 'img');
    icon.setAttribute('aria-label', g.word);
    icon.title = `${part} ${g.word}`;
    parent.appendChild(icon);
  }
}

/**
 * Fills `row` with the line's segments as spans (textContent only); `query` matches are marked.
 * Returns the row for chaining.
 */
export function renderLine(doc: Document, row: HTMLElement, line: string, start: SgrState, query = ''): HTMLElement {
  const { segments, cut } = displaySegments(line, start);
  const ranges = query ? matchRanges(segments.map((s) => s.text).join(''), query) : [];
  let offset = 0;
  for (const seg of segments) {
    if (!seg.control && isPlain(seg.state) && ranges.length === 0) {
      appendText(doc, row, seg.text);
    } else {
      const span = doc.createElement('span');
      if (seg.control) span.className = 'ctl';
      styleSpan(span, seg.state);
      if (ranges.length) appendWithMarks(doc, span, seg.text, offset, ranges);
      else appendText(doc, span, seg.text);
      row.appendChild(span);
    }
    offset += seg.text.length;
  }
  if (cut > 0) {
    const more = doc.createElement('span');
    more.className = 'cut';
    more.textContent = ` … (${cut} more characters)`;
    row.appendChild(more);
  }
  return row;
}
