/**
 * Terminal output → inert text segments (SECURITY 20). Pure: no DOM, so plain mocha tests it.
 *
 * Only SGR (`ESC [ … m`) becomes styling; every other escape (cursor moves, OSC titles and OSC 8
 * hyperlinks, DCS/APC/PM, single-character escapes) is removed, so a log can neither open a link
 * nor move text around. C0/C1 control characters become their visible "control picture", and bidi
 * controls (the Trojan Source characters) become a visible `⟨U+202E⟩` marker, so what a reader
 * sees is the order the bytes really have.
 */

/** The SGR state a segment is drawn with. Colours: 0–15 palette, 16–255 xterm cube, or `#rrggbb`. */
export interface SgrState {
  fg: number | string | null;
  bg: number | string | null;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
  inverse: boolean;
  strike: boolean;
}

export const PLAIN: Readonly<SgrState> = Object.freeze({
  fg: null,
  bg: null,
  bold: false,
  dim: false,
  italic: false,
  underline: false,
  inverse: false,
  strike: false,
});

export interface Segment {
  text: string;
  state: SgrState;
  /** True for the visible stand-in of a neutralised control or bidi character. */
  control: boolean;
}

/** Bidi embedding/override/isolate controls and marks (Trojan Source, CVE-2021-42574). */
 
const BIDI_RE = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
// Everything that needs a closer look: ESC, other C0 controls but TAB, DEL, C1 controls, bidi.
// eslint-disable-next-line no-control-regex
const SPECIAL_RE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** The visible stand-in of a control character: U+2400 control pictures for C0, `⟨U+XXXX⟩` otherwise. */
export function controlPicture(ch: string): string {
  const code = ch.charCodeAt(0);
  if (code < 0x20) return String.fromCharCode(0x2400 + code);
  if (code === 0x7f) return '\u2421';
  return `⟨U+${code.toString(16).toUpperCase().padStart(4, '0')}⟩`;
}

/** True when the line has anything but plain printable text (the fast path skips parsing otherwise). */
export function needsParsing(line: string): boolean {
  return SPECIAL_RE.test(line);
}

function sameState(a: SgrState, b: SgrState): boolean {
  return (
    a.fg === b.fg &&
    a.bg === b.bg &&
    a.bold === b.bold &&
    a.dim === b.dim &&
    a.italic === b.italic &&
    a.underline === b.underline &&
    a.inverse === b.inverse &&
    a.strike === b.strike
  );
}

function hex(n: number): string {
  return Math.max(0, Math.min(255, n)).toString(16).padStart(2, '0');
}

/** Applies the parameters of one SGR sequence to a state (a copy is returned). */
export function applySgr(prev: SgrState, params: string): SgrState {
  const s: SgrState = { ...prev };
  const p = params === '' ? [0] : params.split(/[;:]/).map((x) => (x === '' ? 0 : Number.parseInt(x, 10)));
  for (let i = 0; i < p.length; i++) {
    const c = p[i] ?? 0;
    if (c === 0) Object.assign(s, PLAIN);
    else if (c === 1) s.bold = true;
    else if (c === 2) s.dim = true;
    else if (c === 3) s.italic = true;
    else if (c === 4) s.underline = true;
    else if (c === 7) s.inverse = true;
    else if (c === 9) s.strike = true;
    else if (c === 22) s.bold = s.dim = false;
    else if (c === 23) s.italic = false;
    else if (c === 24) s.underline = false;
    else if (c === 27) s.inverse = false;
    else if (c === 29) s.strike = false;
    else if (c >= 30 && c <= 37) s.fg = c - 30;
    else if (c >= 90 && c <= 97) s.fg = c - 90 + 8;
    else if (c === 39) s.fg = null;
    else if (c >= 40 && c <= 47) s.bg = c - 40;
    else if (c >= 100 && c <= 107) s.bg = c - 100 + 8;
    else if (c === 49) s.bg = null;
    else if (c === 38 || c === 48) {
      // 38;5;n (256 colours) or 38;2;r;g;b (true colour); anything else ends the sequence.
      let colour: number | string | null = null;
      if (p[i + 1] === 5 && p[i + 2] !== undefined) {
        colour = Math.max(0, Math.min(255, p[i + 2] ?? 0));
        i += 2;
      } else if (p[i + 1] === 2 && p[i + 4] !== undefined) {
        colour = `#${hex(p[i + 2] ?? 0)}${hex(p[i + 3] ?? 0)}${hex(p[i + 4] ?? 0)}`;
        i += 4;
      } else {
        break;
      }
      if (c === 38) s.fg = colour;
      else s.bg = colour;
    }
  }
  return s;
}

/** Where an escape sequence starting at `i` (on ESC) ends (exclusive), and its SGR params if it is SGR. */
function scanEscape(line: string, i: number): { end: number; sgr?: string } {
  const next = line[i + 1];
  if (next === undefined) return { end: i + 1 };
  if (next === '[') {
    // CSI: parameter bytes 0x30–0x3F, intermediates 0x20–0x2F, one final byte 0x40–0x7E.
    let j = i + 2;
    while (j < line.length && /[0-?]/.test(line[j])) j++;
    const params = line.slice(i + 2, j);
    while (j < line.length && /[ -/]/.test(line[j])) j++;
    const final = line[j];
    if (final === undefined || !/[@-~]/.test(final)) return { end: j };
    return final === 'm' && /^[0-9;:]*$/.test(params) ? { end: j + 1, sgr: params } : { end: j + 1 };
  }
  if (next === ']' || next === 'P' || next === 'X' || next === '^' || next === '_') {
    // OSC / DCS / SOS / PM / APC: everything up to BEL or ST (ESC \) goes, e.g. an OSC 8 link target.
    for (let j = i + 2; j < line.length; j++) {
      if (line[j] === '\x07') return { end: j + 1 };
      if (line[j] === '\x1b' && line[j + 1] === '\\') return { end: j + 2 };
    }
    return { end: line.length };
  }
  // Two-character escapes (ESC 7, ESC c, …) and charset selections (ESC ( B).
  if (next === '(' || next === ')' || next === '*' || next === '+') return { end: Math.min(line.length, i + 3) };
  return { end: i + 2 };
}

/**
 * Splits one line (no `\n`) into styled segments, starting from `start` (the state the previous
 * line ended in). Returns the segments and the state at the end of the line.
 */
export function parseAnsiLine(line: string, start: SgrState = PLAIN): { segments: Segment[]; end: SgrState } {
  if (!needsParsing(line)) return { segments: line ? [{ text: line, state: start, control: false }] : [], end: start };
  const segments: Segment[] = [];
  let state = start;
  let buf = '';
  const flush = (): void => {
    if (!buf) return;
    const last = segments[segments.length - 1];
    if (last && !last.control && sameState(last.state, state)) last.text += buf;
    else segments.push({ text: buf, state, control: false });
    buf = '';
  };
  let i = 0;
  while (i < line.length) {
    const ch = line[i];
    if (ch === '\x1b') {
      flush();
      const esc = scanEscape(line, i);
      if (esc.sgr !== undefined) state = applySgr(state, esc.sgr);
      i = esc.end;
      continue;
    }
    const code = ch.charCodeAt(0);
    if ((code < 0x20 && ch !== '\t') || (code >= 0x7f && code <= 0x9f) || BIDI_RE.test(ch)) {
      flush();
      segments.push({ text: controlPicture(ch), state, control: true });
      i++;
      continue;
    }
    buf += ch;
    i++;
  }
  flush();
  return { segments, end: state };
}

/** The line as plain text (what search matches): escapes removed, controls shown as their pictures. */
export function plainText(line: string): string {
  if (!needsParsing(line)) return line;
  return parseAnsiLine(line).segments.map((s) => s.text).join('');
}

/** The state at the end of a line, computed without building segments when the line is plain. */
export function endState(line: string, start: SgrState): SgrState {
  if (line.indexOf('\x1b') < 0) return start;
  return parseAnsiLine(line, start).end;
}

/** A stable key for a state (used to intern per-line start states). */
export function stateKey(s: SgrState): string {
  return `${s.fg ?? ''}|${s.bg ?? ''}|${+s.bold}${+s.dim}${+s.italic}${+s.underline}${+s.inverse}${+s.strike}`;
}
