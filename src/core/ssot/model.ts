/**
 * The SSOT model: what the Controller reads out of the roadmap and the AC ledger.
 * Parsers live next to this file; every consumer (CLI, views, planner) uses only these types.
 */

export type Severity = 'error' | 'warning' | 'info';

/** A problem found in a document, with a 1-based line number, shown in the Problems panel. */
export interface Diagnostic {
  /** Path relative to the workspace root, forward slashes. */
  file: string;
  /** 1-based line number. */
  line: number;
  severity: Severity;
  message: string;
  /** Stable machine id, e.g. `ssot.duplicate-ac`, `ssot.unknown-status`. */
  code?: string;
}

/** Where an item was read from (file relative to root, 1-based line). */
export interface SourceRef {
  file: string;
  line: number;
}

/**
 * Canonical status words. Real documents use many more (PASS, COMPLETED, 진행중, ✅ …); the
 * parser keeps the raw text and maps it onto one of these.
 */
export const STATUS_WORDS = [
  'OPEN',
  'IN_PROGRESS',
  'PARTIAL',
  'DONE',
  'BLOCKED',
  'LOST_EVIDENCE',
  'UNKNOWN',
] as const;
export type Status = (typeof STATUS_WORDS)[number];

export interface AcceptanceCriterion {
  /** Canonical id: `TICKET::AC-N` (ledger form). */
  id: string;
  ticketId: string;
  /** The part after `::`, e.g. `AC-1`. */
  localId: string;
  title: string;
  status: Status;
  /** The status cell exactly as written. */
  rawStatus: string;
  evidence?: string;
  commit?: string;
  stage?: string;
  notes?: string;
  /** Where the AC was read: a ledger row, a roadmap AC table row, or a `- [x]` checkbox. */
  origin?: 'ledger' | 'table' | 'checkbox';
  source: SourceRef;
}

export interface Ticket {
  id: string;
  title: string;
  /** Heading of the phase the ticket belongs to, if any. */
  phase?: string;
  status: Status;
  rawStatus: string;
  /** DONE/TOTAL as written in the roadmap, when it has such a column. */
  done?: number;
  total?: number;
  /** Reason shown for BLOCKED tickets, when the document gives one. */
  blockedReason?: string;
  /** ACs listed in the roadmap itself (per-ticket tables, checkboxes). */
  acs: AcceptanceCriterion[];
  source: SourceRef;
}

export interface Phase {
  title: string;
  ticketIds: string[];
  source: SourceRef;
}

/** Everything the Controller knows about a workspace's SSOT documents. */
export interface SsotIndex {
  phases: Phase[];
  tickets: Ticket[];
  /** AC rows of the ledger, in ledger order (the queue). */
  ledger: AcceptanceCriterion[];
  diagnostics: Diagnostic[];
}
