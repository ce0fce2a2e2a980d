import type { AcceptanceCriterion, Diagnostic, Phase, Status, Ticket } from './model';
import { plainCell, scanDocument, type Block } from './markdown';
import { splitAcId } from './ledger';
import { normalizeStatus } from './status-words';
import { cellOf, readHeader, readTable, type TableView, type TableRow } from './tables';

/**
 * One parser for every roadmap document; they differ in content, not in kind:
 * - D_ROADMAP.md: `### Phase N: title` + step tables `| Step | Goal | DONE/TOTAL | Status |`;
 * - ROADMAP_V2.md: `### D_ALPHA-0: title` + AC tables `| AC | Goal | Status | Evidence |`;
 * - the legacy roadmap: one heading per ticket section, `**상태:**`/`**Status:**` lines and
 *   `- [x]` checkbox ACs.
 */
export interface RoadmapParse {
  file: string;
  phases: Phase[];
  /** Unique by id, in order of first appearance. */
  tickets: Ticket[];
  diagnostics: Diagnostic[];
  stats: RoadmapStats;
}

export interface RoadmapStats {
  /** Headings that name a ticket id (a ticket may have several sections). */
  ticketSections: number;
  /** Rows of step tables (one ticket each). */
  stepRows: number;
  /** ACs read from AC tables. */
  tableAcs: number;
  /** `**상태:**` / `**Status:**` lines anywhere in the document. */
  statusLines: number;
  /** `- [ ]` / `- [x]` list items anywhere, and how many of them are ticked. */
  checkboxes: number;
  checkboxesDone: number;
}

/**
 * A ticket id at the start of a heading or in a step cell: `D82-1`, `D205-10-1`, `D_ALPHA-1U-FIX-2`,
 * `D208-SLIM-1`, `D93`. A range such as `D213~D215` is not an id.
 */
const TICKET_ID = /^(D\d+(?:-[A-Z0-9]+)*|D_[A-Z][A-Z0-9_]*(?:-[A-Z0-9]+)+)(?=$|[\s:：(（[—–,])/;
// `s` (dotAll): see META_RE in ledger.ts — `.` must match U+2028 or `\s*(.*)$` backtracks.
const PHASE_RE = /^Phase\s+([^\s:：]+)\s*[:：]\s*(.*)$/is;
/** `**상태:** x`, `**Status**: x` (label bold with or without the colon inside). */
const STATUS_LINE = /\*\*\s*(?:상태|Status)\s*(?::\s*\*\*|\*\*\s*:)\s*(.*)$/is;
/** The next `**Label:**` on the same line ends the status value. */
// One whitespace, not `\s+`: a `\s+` prefix backtracks quadratically on a line of spaces (SEC-18).
const NEXT_LABEL = /\s\*\*[^*]{1,40}?(?::\*\*|\*\*:)/;
const CHECKBOX = /^\[([ xX])\][ \t]+/;
const CHECKBOX_AC = /^\**(AC-\d+[A-Za-z0-9.-]*)\**\s*[:：)]?/;
const PROGRESS = /^(\d+)\s*\/\s*(\d+)$/;

/** Leading emoji/markers and the `신` ("new") prefix the legacy roadmap puts before ids. */
function headingId(text: string): { id: string; rest: string } | undefined {
  const t = text.replace(/^[^A-Za-z0-9가-힣]+/, '').replace(/^(?:신|New|NEW)\s+/, '');
  const m = TICKET_ID.exec(t);
  if (!m) return undefined;
  const strip = (s: string) => s.replace(/^\s*[:：—–-]?\s*/, '').trim();
  let rest = strip(t.slice(m[1].length));
  // The legacy roadmap repeats the id: "### D82-10: D82-10: Recalibrated …" → "Recalibrated …".
  if (rest.startsWith(m[1]) && /^[\s:：]/.test(rest.slice(m[1].length))) rest = strip(rest.slice(m[1].length));
  return { id: m[1], rest };
}

const STEP_ID = /^[A-Za-z][A-Za-z0-9_]*(?:[-.][A-Za-z0-9_]+)*$/;

/**
 * True when a step cell names a ticket. A cell is explicit, so any single-token id is accepted
 * (`D206-1`, `D_ALPHA-0`, `OPS-12`); headings, being prose, only count with a D-number.
 */
export function isTicketId(s: string): boolean {
  return STEP_ID.test(s);
}

/** The status text after a `**Status:**` label, or undefined when the line has no such label. */
export function statusLineValue(line: string): string | undefined {
  const m = STATUS_LINE.exec(line);
  if (!m) return undefined;
  const next = NEXT_LABEL.exec(m[1]);
  let value = (next ? m[1].slice(0, next.index) : m[1]).trim();
  // A quoted report header ends in a `---` rule: `> **Status:** ✅ COMPLETE ---`.
  if (value.endsWith('---')) value = value.slice(0, -3).trimEnd();
  return value;
}

/** Parse one roadmap document (any of the three kinds above) into phases, tickets and their ACs. */
export function parseRoadmap(text: string, file: string): RoadmapParse {
  return new RoadmapParser(file).parse(text);
}

type HeadingBlock = Extract<Block, { kind: 'heading' }>;
type TableBlock = Extract<Block, { kind: 'table' }>;
type TextBlock = Extract<Block, { kind: 'text' }>;
/** An open ticket section and the checkbox ACs numbered in it so far. */
interface Section { ticket: Ticket; level: number; checkboxes: number }

/** The state of one pass over a roadmap: where in the document we are, and what was read so far. */
class RoadmapParser {
  private readonly diagnostics: Diagnostic[] = [];
  private readonly phases: Phase[] = [];
  private readonly tickets = new Map<string, Ticket>();
  private readonly stats: RoadmapStats = { ticketSections: 0, stepRows: 0, tableAcs: 0, statusLines: 0, checkboxes: 0, checkboxesDone: 0 };
  private phase: { phase: Phase; level: number; ids: Set<string> } | undefined;
  /** Open ticket sections, innermost last (a `#####` ticket may sit inside a `####` one). */
  private readonly stack: Section[] = [];

  constructor(private readonly file: string) {}

  parse(text: string): RoadmapParse {
    for (const block of scanDocument(text).blocks) {
      if (block.kind === 'heading') this.heading(block);
      else if (block.kind === 'table') this.table(block);
      else this.paragraph(block);
    }
    // A ticket with no status of its own (ROADMAP_V2's heading sections) takes the state of its ACs.
    for (const t of this.tickets.values()) {
      if (t.rawStatus === '' && t.acs.length > 0) t.status = statusFromAcs(t.acs);
    }
    return { file: this.file, phases: this.phases, tickets: [...this.tickets.values()], diagnostics: this.diagnostics, stats: this.stats };
  }

  private warn(line: number, code: string, message: string): void {
    this.diagnostics.push({ file: this.file, line, severity: 'warning', code, message });
  }

  private ticketFor(id: string, title: string, line: number): Ticket {
    const phase = this.phase;
    let t = this.tickets.get(id);
    if (!t) {
      t = { id, title, phase: phase?.phase.title, status: 'UNKNOWN', rawStatus: '', acs: [], source: { file: this.file, line } };
      this.tickets.set(id, t);
    } else {
      if (!t.title && title) t.title = title;
      if (!t.phase && phase) t.phase = phase.phase.title;
    }
    if (phase && !phase.ids.has(id)) {
      phase.ids.add(id);
      phase.phase.ticketIds.push(id);
    }
    return t;
  }

  /** A heading closes deeper sections and opens a phase or a ticket section. */
  private heading(block: HeadingBlock): void {
    const stack = this.stack;
    while (stack.length > 0 && stack[stack.length - 1].level >= block.level) stack.pop();
    if (this.phase && this.phase.level >= block.level) this.phase = undefined;
    const heading = block.text.trim();
    if (PHASE_RE.exec(heading)) {
      const p: Phase = { title: heading, ticketIds: [], source: { file: this.file, line: block.line + 1 } };
      this.phases.push(p);
      this.phase = { phase: p, level: block.level, ids: new Set() };
      return;
    }
    const hid = headingId(heading);
    if (hid) {
      this.stats.ticketSections++;
      const ticket = this.ticketFor(hid.id, hid.rest, block.line + 1);
      stack.push({ ticket, level: block.level, checkboxes: 0 });
    }
  }

  /** Step tables (one ticket per row) and AC tables; tables without a status column are prose. */
  private table(block: TableBlock): void {
    const header = readHeader(block.rows[0] ?? '');
    if (header.index.status === undefined) return;
    if (header.index.step !== undefined) {
      const table = readTable(block, this.file, this.diagnostics);
      for (const row of table.rows) this.readStepRow(table, row);
    } else if (header.index.id !== undefined) {
      const table = readTable(block, this.file, this.diagnostics);
      for (const row of table.rows) this.readAcRow(table, row);
    }
  }

  /** Paragraph text: status lines and checkboxes. */
  private paragraph(block: TextBlock): void {
    const current = this.stack[this.stack.length - 1];
    if (block.listItem) {
      const cb = CHECKBOX.exec(block.text);
      if (cb) this.checkbox(block, cb, current);
    }
    // Cheap pre-check: most paragraphs have no bold label at all.
    if (block.text.includes('**') && (block.text.includes('상태') || /status/i.test(block.text))) {
      const textLines = block.text.split('\n');
      for (let k = 0; k < textLines.length; k++) {
        const value = statusLineValue(textLines[k]);
        if (value !== undefined) this.statusLine(value, block.line + k + 1, current);
      }
    }
  }

  /** A `- [ ]` / `- [x]` item: counted anywhere, an AC of the open ticket section. */
  private checkbox(block: TextBlock, cb: RegExpExecArray, current: Section | undefined): void {
    this.stats.checkboxes++;
    const done = cb[1] !== ' ';
    if (done) this.stats.checkboxesDone++;
    if (!current) return;
    const body = block.text.slice(cb[0].length);
    const firstLine = body.split('\n', 1)[0];
    const acm = CHECKBOX_AC.exec(firstLine);
    current.checkboxes++;
    const localId = acm ? acm[1] : `#${current.checkboxes}`;
    const title = (acm ? firstLine.slice(acm[0].length) : firstLine).trim();
    current.ticket.acs.push({
      id: `${current.ticket.id}::${localId}`,
      ticketId: current.ticket.id,
      localId,
      title,
      status: done ? 'DONE' : 'OPEN',
      rawStatus: done ? '[x]' : '[ ]',
      origin: 'checkbox',
      source: { file: this.file, line: block.line + 1 },
    });
  }

  private statusLine(value: string, line: number, current: Section | undefined): void {
    this.stats.statusLines++;
    const norm = normalizeStatus(value);
    if (!norm.known) this.warn(line, 'ssot.unknown-status', `unknown status "${value}"`);
    // The first status line of a section is the ticket's own status; later ones (quoted
    // report headers) describe documents, not the ticket.
    if (current && current.ticket.rawStatus === '') {
      current.ticket.rawStatus = value;
      current.ticket.status = norm.status;
      if (norm.status === 'BLOCKED') current.ticket.blockedReason = reasonOf(value);
    }
  }

  private readStepRow(table: TableView, row: TableRow): void {
    const line = row.line + 1;
    const id = plainCell(cellOf(table, row, 'step') ?? '');
    if (!isTicketId(id)) {
      this.warn(line, 'ssot.bad-ticket-id', `step "${id}" is not a ticket id; row ignored`);
      return;
    }
    this.stats.stepRows++;
    const rawStatus = plainCell(cellOf(table, row, 'status') ?? '');
    const norm = normalizeStatus(rawStatus);
    if (!norm.known) this.warn(line, 'ssot.unknown-status', `unknown status "${rawStatus}" for ${id}`);
    const ticket = this.ticketFor(id, (cellOf(table, row, 'title') ?? '').trim(), line);
    ticket.status = norm.status;
    ticket.rawStatus = rawStatus;
    if (norm.status === 'BLOCKED') ticket.blockedReason = reasonOf(rawStatus);
    const progress = cellOf(table, row, 'progress');
    if (progress !== undefined) {
      const pm = PROGRESS.exec(plainCell(progress));
      if (pm) {
        ticket.done = Number(pm[1]);
        ticket.total = Number(pm[2]);
      } else {
        this.warn(line, 'ssot.bad-progress', `DONE/TOTAL "${progress}" of ${id} is not N/M`);
      }
    }
  }

  private readAcRow(table: TableView, row: TableRow): void {
    const line = row.line + 1;
    const rawId = plainCell(cellOf(table, row, 'id') ?? '');
    if (rawId === '') {
      this.warn(line, 'ssot.missing-id', 'AC row has no id; row ignored');
      return;
    }
    const split = splitAcId(rawId);
    const owner = this.stack[this.stack.length - 1]?.ticket;
    const ticketId = split?.ticketId ?? owner?.id;
    const localId = split?.localId ?? rawId;
    if (!ticketId) {
      this.warn(line, 'ssot.orphan-ac', `AC "${rawId}" is outside any ticket section; row ignored`);
      return;
    }
    const ticket = owner?.id === ticketId ? owner : this.ticketFor(ticketId, '', line);
    const rawStatus = plainCell(cellOf(table, row, 'status') ?? '');
    const norm = normalizeStatus(rawStatus);
    const id = `${ticketId}::${localId}`;
    if (!norm.known) this.warn(line, 'ssot.unknown-status', `unknown status "${rawStatus}" for ${id}`);
    this.stats.tableAcs++;
    const evidence = cellOf(table, row, 'evidence');
    const ac: AcceptanceCriterion = {
      id,
      ticketId,
      localId,
      title: (cellOf(table, row, 'title') ?? '').trim(),
      status: norm.status,
      rawStatus,
      origin: 'table',
      source: { file: this.file, line },
    };
    if (evidence !== undefined) ac.evidence = plainCell(evidence);
    const commit = cellOf(table, row, 'commit');
    if (commit !== undefined) ac.commit = plainCell(commit);
    ticket.acs.push(ac);
  }
}

/** DONE when every AC is DONE, PARTIAL when some are, OPEN otherwise. */
export function statusFromAcs(acs: readonly AcceptanceCriterion[]): Status {
  const done = acs.filter((a) => a.status === 'DONE').length;
  if (done === acs.length) return 'DONE';
  return done > 0 ? 'PARTIAL' : 'OPEN';
}

/** `BLOCKED (waiting for keys)` → `waiting for keys`. */
function reasonOf(raw: string): string | undefined {
  // `BLOCKED (retry cap: 3 failed attempts (cap 3))`: a parenthesis that closes the cell keeps its own nested ones.
  const m = /\((.*)\)\s*$|\(([^)]*)\)|[-—:]\s*(.+)$/s.exec(raw);
  const r = (m?.[1] ?? m?.[2] ?? m?.[3])?.trim();
  return r ? r : undefined;
}
