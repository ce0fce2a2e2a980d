/**
 * The Runs view's rows: every cycle, newest first, merged by run id from the evidence index (runs
 * that left an evidence folder) and history.jsonl (every cycle, also the FAIL/BLOCKED/ABORTED ones
 * that wrote no evidence). No `vscode` here: plain mocha tests it. Both sources are files in the
 * user's repository, so every value is checked and cut before it is shown.
 */
import { parseHistoryEntry, type HistoryEntry } from '../../../core/contracts/history-entry';
import type { EvidenceIndexEntry } from '../../../core/evidence/run-index';
import { parseRunId } from '../../../core/evidence/run-id';
import type { IconSpec } from '../status-icon';

/** One evidence file of a run as the tree shows it. */
export interface EvidenceFile {
  /** Relative to the run folder, forward slashes. */
  path: string;
  bytes: number | null;
  /** A regular file is there (a manifest may list a file that was deleted since). */
  present: boolean;
}

export interface RunRow {
  kind: 'run';
  /** Unique and stable across refreshes (keeps expansion and selection). */
  key: string;
  runId: string;
  ticketId: string | null;
  /** PASS, FAIL, BLOCKED, TIMEOUT, ABORTED; INCOMPLETE for an evidence folder without a valid manifest. */
  status: string;
  startedAt: Date | null;
  durationSeconds: number | null;
  costUsd: number | null;
  acIds: string[];
  reasons: string[];
  /** What else the tooltip names (history's agent, Auditor verdict and cause; the evidence's gates). */
  details: RunDetails;
  hasEvidence: boolean;
  /** `git.push` on and the run's commit is not on the upstream yet. */
  notPushed?: boolean;
  label: string;
  description: string;
  tooltip: string;
  icon: IconSpec;
  /** `;`-joined tokens for `when` clauses: `run;evidence;status:PASS`, `run;status:FAIL`. */
  contextValue: string;
}

export interface RunDetails {
  agent?: string;
  audit?: string;
  cause?: string;
  gates?: Record<string, string>;
}

export interface EvidenceFileRow {
  kind: 'file';
  key: string;
  runId: string;
  path: string;
  present: boolean;
  label: string;
  description: string;
  tooltip: string;
  icon: IconSpec;
  contextValue: string;
}

export type RunsRow = RunRow | EvidenceFileRow;

export interface RunRowOptions {
  /** The evidence folder as the user sees it (`logs/evidence`), for the tooltip. */
  evidenceDir?: string;
  /** Time zone the start time is shown in (default: the machine's). Tests pin it. */
  timeZone?: string;
  /** Run ids whose commit is not on the upstream (`git.push` on): marked "not pushed". */
  notPushed?: ReadonlySet<string>;
}

const MAX_TEXT = 300;
const MAX_LIST = 50;

function cut(s: string, n = MAX_TEXT): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  const oneLine = s.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return oneLine.length > n ? `${oneLine.slice(0, n - 1)}…` : oneLine;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? cut(v.trim()) : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
const strList = (v: unknown): string[] =>
  Array.isArray(v)
    ? v
        .filter((x): x is string => typeof x === 'string' && x.trim() !== '')
        .slice(0, MAX_LIST)
        .map((x) => cut(x.trim()))
    : [];

/** One codicon per cycle outcome, coloured from the theme like the SSOT status icons. */
export function runStatusIcon(status: string): IconSpec {
  switch (status) {
    case 'PASS':
      return { id: 'pass-filled', color: 'testing.iconPassed' };
    case 'FAIL':
      return { id: 'error', color: 'testing.iconFailed' };
    case 'BLOCKED':
      return { id: 'circle-slash', color: 'errorForeground' };
    case 'TIMEOUT':
      return { id: 'watch', color: 'list.warningForeground' };
    case 'ABORTED':
      return { id: 'debug-stop', color: 'descriptionForeground' };
    case 'INCOMPLETE':
      return { id: 'warning', color: 'list.warningForeground' };
    case 'UNBLOCKED':
      return { id: 'debug-restart', color: 'descriptionForeground' };
    default:
      return { id: 'question', color: 'descriptionForeground' };
  }
}

/** `42s`, `3m 05s`, `1h 02m`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `$0.42`; sub-cent spend keeps four decimals so it does not read as free. */
export function formatCost(usd: number): string {
  return usd > 0 && usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

/** `2026-11-25 11:05` in `timeZone` (default: the machine's). */
export function formatStart(d: Date, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    ...(timeZone ? { timeZone } : {}),
  }).formatToParts(d);
  const get = (t: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')}`;
}

/** What the rows need from one history.jsonl record (the last one for its run id). */
interface HistoryFacts {
  ticketId?: string;
  status?: string;
  endedAt?: Date;
  costUsd?: number;
  acIds: string[];
  reasons: string[];
  agent?: string;
  audit?: string;
  cause?: string;
}

function historyFacts(r: HistoryEntry): HistoryFacts {
  const endedAt = validDate(r.endedAt);
  // The cycle writes `reasons` (a list); crash recovery and the sandbox write one `reason`.
  const reasons = strList(r.reasons);
  const one = str(r.reason);
  if (one && !reasons.includes(one)) reasons.push(one);
  return {
    ticketId: str(r.ticketId),
    // A person's unblock (issue 20) is listed as what it is, not as another BLOCKED cycle.
    status: r.unblocked ? 'UNBLOCKED' : r.status,
    ...(endedAt ? { endedAt } : {}),
    costUsd: r.costUsd,
    acIds: strList(r.acIds),
    reasons,
    agent: str(r.agent),
    audit: str(r.audit),
    cause: r.cause,
  };
}

function validDate(iso: string | null | undefined): Date | undefined {
  if (!iso) return undefined;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** The tooltip of a run; `extraAcIds` come from its manifest when history named none. */
export function runTooltip(row: Omit<RunRow, 'tooltip'>, opts: RunRowOptions = {}, extraAcIds: readonly string[] = []): string {
  const d = row.details;
  const lines = [`${row.ticketId ?? '(no ticket)'} — ${row.status}`, `Run ${row.runId}`];
  const when: string[] = [];
  if (row.startedAt) when.push(`started ${formatStart(row.startedAt, opts.timeZone)}`);
  if (row.durationSeconds !== null) when.push(`took ${formatDuration(row.durationSeconds)}`);
  if (row.costUsd !== null) when.push(`cost ${formatCost(row.costUsd)}`);
  if (when.length) lines.push(when.join(' · '));
  const acs = row.acIds.length ? row.acIds : extraAcIds.slice(0, MAX_LIST).map((a) => cut(a));
  lines.push(`ACs: ${acs.length ? acs.join(', ') : '(none recorded)'}`);
  if (d.agent) lines.push(`Agent: ${d.agent}`);
  const gates = Object.entries(d.gates ?? {}).slice(0, 20);
  if (gates.length) lines.push(`Gate: ${gates.map(([k, v]) => `${cut(k, 60)} ${cut(v, 20)}`).join(', ')}`);
  if (d.audit) lines.push(`Auditor: ${d.audit}`);
  if (d.cause) lines.push(`Cause: ${d.cause}`);
  if (row.reasons.length) {
    lines.push('Reasons:');
    for (const r of row.reasons) lines.push(`  • ${r}`);
  }
  if (row.notPushed) lines.push('Not pushed: its commit is not on the upstream yet (the next run retries the push)');
  if (row.hasEvidence) {
    lines.push(`Evidence: ${opts.evidenceDir ? `${opts.evidenceDir}/` : ''}${row.runId}/`);
  } else {
    lines.push('No evidence folder (the cycle wrote none)');
  }
  return lines.join('\n');
}

/**
 * One row per run id, newest first (by start time; run ids start with it), from the evidence
 * index and the history records (oldest first, as the file holds them; the last record of a run
 * id wins). History is the authority on a cycle's outcome and metered cost; evidence adds the run
 * duration, the gate results and the files. Each record is read as a history entry
 * (`parseHistoryEntry`): fields of the wrong type are ignored, a record without a run id is skipped.
 */
export function buildRunRows(evidence: readonly EvidenceIndexEntry[], history: readonly Record<string, unknown>[], opts: RunRowOptions = {}): RunRow[] {
  const byRun = new Map<string, HistoryFacts>();
  for (const raw of history) {
    const r = parseHistoryEntry(raw);
    const runId = str(r?.runId);
    if (r && runId) byRun.set(runId, historyFacts(r));
  }
  const evidenceByRun = new Map(evidence.map((e) => [e.runId, e]));
  const ids = new Set<string>([...evidenceByRun.keys(), ...byRun.keys()]);

  const rows: RunRow[] = [];
  for (const runId of ids) {
    const h = byRun.get(runId);
    const e = evidenceByRun.get(runId);
    const parsedId = parseRunId(runId);
    const startedAt = validDate(e?.complete ? e.timestamp : undefined) ?? parsedId?.time ?? null;
    const status = h?.status ?? (e ? (e.complete ? e.status : 'INCOMPLETE') : 'UNKNOWN');
    const ticketId = h?.ticketId ?? (e?.ticketId ? cut(e.ticketId) : null);
    let durationSeconds: number | null = e?.complete ? (num(e.durationSeconds) ?? null) : null;
    if (durationSeconds === null && h?.endedAt && startedAt && h.endedAt.getTime() >= startedAt.getTime()) {
      durationSeconds = (h.endedAt.getTime() - startedAt.getTime()) / 1000;
    }
    const costUsd = h?.costUsd ?? num(e?.costUsd) ?? null;
    const hasEvidence = e !== undefined;
    const notPushed = opts.notPushed?.has(runId) ?? false;

    const description = [status];
    if (notPushed) description.push('not pushed');
    if (costUsd !== null) description.push(formatCost(costUsd));
    if (durationSeconds !== null) description.push(formatDuration(durationSeconds));
    if (startedAt) description.push(formatStart(startedAt, opts.timeZone).slice(0, 16));

    const base: Omit<RunRow, 'tooltip'> = {
      kind: 'run',
      key: `run:${runId}`,
      runId,
      ticketId,
      status,
      startedAt,
      durationSeconds,
      costUsd,
      acIds: h?.acIds ?? [],
      reasons: h?.reasons ?? [],
      details: {
        ...(h?.agent ? { agent: h.agent } : {}),
        ...(h?.audit ? { audit: h.audit } : {}),
        ...(h?.cause ? { cause: h.cause } : {}),
        ...(e?.complete && Object.keys(e.gates).length ? { gates: e.gates } : {}),
      },
      hasEvidence,
      ...(notPushed ? { notPushed } : {}),
      label: ticketId ?? (parsedId ? parsedId.label.toUpperCase() : runId),
      description: description.join(' · '),
      icon: runStatusIcon(status),
      contextValue: ['run', ...(hasEvidence ? ['evidence'] : []), `status:${status}`, ...(notPushed ? ['notPushed'] : [])].join(';'),
    };
    rows.push({ ...base, tooltip: runTooltip(base, opts) });
  }
  const time = (r: RunRow): number => r.startedAt?.getTime() ?? -Infinity;
  rows.sort((a, b) => time(b) - time(a) || (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0));
  return rows;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function fileIcon(p: string): IconSpec {
  if (p.endsWith('.json')) return { id: 'json' };
  if (p.endsWith('.log')) return { id: 'output' };
  if (p.endsWith('.md')) return { id: 'markdown' };
  return { id: 'file' };
}

/** The children of a run: its evidence files in the order given (the manifest's). */
export function evidenceFileRows(runId: string, files: readonly EvidenceFile[]): EvidenceFileRow[] {
  return files.map((f) => {
    const size = f.bytes !== null ? formatBytes(f.bytes) : '';
    return {
      kind: 'file',
      key: `file:${runId}/${f.path}`,
      runId,
      path: f.path,
      present: f.present,
      label: f.path,
      description: f.present ? size : 'missing',
      tooltip: f.present ? `${runId}/${f.path}${size ? ` (${size})` : ''}` : `${runId}/${f.path}: listed in the manifest but not in the run folder`,
      icon: f.present ? fileIcon(f.path) : { id: 'warning', color: 'list.warningForeground' },
      contextValue: f.present ? 'evidenceFile' : 'evidenceFile;missing',
    };
  });
}
