/**
 * What the Run panel shows, read from the newest evidence run (and its history.jsonl record) with
 * the core readers, until the cycle streams its own events. No `vscode` here: plain mocha tests it
 * on real evidence folders. Everything read is untrusted: regular files only (no symlink is
 * followed), size-capped, and every string cut to the protocol's limits.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FactoryConfig } from '../../../core/config/schema';
import type { HistoryLine } from '../../../core/contracts/history-entry';
import { CYCLE_PHASES } from '../../../core/contracts/status';
import { readHistory } from '../../../core/history/history';
import { evidenceFileSchema, runIdSchema, type RunSnapshot, type TimelinePhase } from '../../../shared/protocol';
import { PriceTable } from '../../../core/config/prices';
import { historyRouting } from './role-rows';

const MAX_JSON_BYTES = 2 * 1024 * 1024;
/** Files the Worker's own output may be kept in, in order of preference. */
export const WORKER_LOG_NAMES = ['worker.log', 'worker_output.log', 'agent.log'];

export interface LatestRun {
  snapshot: RunSnapshot;
  /** Absolute paths of the logs to stream (regular files only). */
  logs: { gate?: string; worker?: string };
  /** The run folder, when there is one. */
  runDir?: string;
}

function cut(s: unknown, n = 500): string {
  const t = typeof s === 'string' ? s : s === undefined || s === null ? '' : JSON.stringify(s);
  return t.length > n ? `${t.slice(0, n - 1)}…` : t;
}

/** A regular file (lstat: a symlink is NOT followed) or undefined. */
export function regularFile(file: string): fs.Stats | undefined {
  try {
    const st = fs.lstatSync(file);
    return st.isFile() ? st : undefined;
  } catch {
    return undefined;
  }
}

function readJson(file: string): Record<string, unknown> | undefined {
  const st = regularFile(file);
  if (!st || st.size > MAX_JSON_BYTES) return undefined;
  try {
    const v: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v ? cut(v) : null);

/** Run folders under the evidence dir, newest first (run ids start with the time). */
export function listRuns(evidenceDir: string): string[] {
  try {
    return fs
      .readdirSync(evidenceDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && runIdSchema.safeParse(d.name).success)
      .map((d) => d.name)
      .sort()
      .reverse();
  } catch {
    return [];
  }
}

/** Flattens kpi.json to `key: value` rows (two levels deep, at most 200). */
export function kpiRows(kpi: Record<string, unknown> | undefined): Array<{ key: string; value: string }> {
  const rows: Array<{ key: string; value: string }> = [];
  const walk = (prefix: string, v: unknown, depth: number): void => {
    if (rows.length >= 200) return;
    if (v && typeof v === 'object' && !Array.isArray(v) && depth < 2) {
      for (const [k, x] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, x, depth + 1);
    } else {
      rows.push({ key: cut(prefix), value: cut(typeof v === 'string' ? v : JSON.stringify(v)) });
    }
  };
  if (kpi) walk('', kpi, 0);
  return rows;
}

interface GateStep {
  name: string;
  status: string;
  durationMs: number | null;
  startedAt: string;
}

/** The guard/stage steps of a gate.log (EVIDENCE_FORMAT §2 lines), with durations. */
export function parseGateSteps(log: string): GateStep[] {
  const steps: GateStep[] = [];
  let open: { name: string; at: string } | undefined;
  for (const line of log.split(/\r?\n/)) {
    const m = /^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\] (.*)$/.exec(line);
    if (!m) continue;
    const at = m[1];
    const text = m[2];
    const head = /^(?:Gate|Guard): (.+)$/.exec(text);
    if (head) {
      open = { name: head[1].trim(), at };
      continue;
    }
    const res = /^Result: ([A-Z]+)(?: \((.*)\))?$/.exec(text);
    if (res && open) {
      // The Result detail ends with the step's own timing (`0.53s`) when the gate wrote one.
      const secs = /(\d+(?:\.\d+)?)s\b(?!.*\d+(?:\.\d+)?s\b)/.exec(res[2] ?? '');
      const fromStamps = Date.parse(`${at.replace(' ', 'T')}Z`) - Date.parse(`${open.at.replace(' ', 'T')}Z`);
      steps.push({
        name: cut(open.name),
        status: res[1],
        durationMs: secs ? Number(secs[1]) * 1000 : Number.isFinite(fromStamps) ? fromStamps : null,
        startedAt: open.at,
      });
      open = undefined;
    }
  }
  return steps;
}

/** The manifest's gate cache record: a Gate PASS reused from an earlier run of the same tree. */
function gateCache(manifest: Record<string, unknown> | undefined): { hit: boolean; source: string | null } {
  const c = manifest?.gate_cache;
  if (!c || typeof c !== 'object') return { hit: false, source: null };
  const r = c as Record<string, unknown>;
  // A source naming the run itself says nothing (a Gate run records its own id there).
  const source = typeof r.source_run_id === 'string' && r.source_run_id && r.source_run_id !== manifest?.run_id ? cut(r.source_run_id, 128) : null;
  return { hit: r.hit === true, source };
}

/** What a recorded phase did when its time alone does not say it: the Gate served from cache, a PASS without a time, a skipped ADJUST. */
function recordedDetail(name: string, status: string, durationMs: number | null, cycleStatus: string | undefined, cache: { hit: boolean; source: string | null }): string | null {
  if (name === 'CHECK' && cache.hit) return `Gate from cache${cache.source ? ` (PASS of ${cache.source})` : ''}`;
  if (name === 'ADJUST' && status === 'SKIPPED') return cycleStatus && cycleStatus !== 'PASS' ? `nothing applied (${cycleStatus})` : 'nothing applied';
  if (status === 'SKIPPED') return cycleStatus === 'BLOCKED' && name !== 'PLAN' ? 'not run (blocked at PLAN)' : 'not run';
  if (status === 'PASS' && durationMs === null) return name === 'ADJUST' ? 'applied, recorded, committed' : 'done';
  return null;
}

/**
 * The timeline: phases recorded in history when the cycle wrote them (with what they did: the
 * Gate from cache, nothing applied …); otherwise what the evidence shows — a Gate run (`factory
 * gate`, "Run Gate") is CHECK alone, and a cycle's evidence read before its history line (PASS
 * evidence is written inside ADJUST) has PLAN done and ADJUST by the manifest's verdict.
 */
export function buildTimeline(record: HistoryLine | undefined, manifest: Record<string, unknown> | undefined, steps: GateStep[]): TimelinePhase[] {
  const cache = gateCache(manifest);
  const gateRun = !record && !!manifest && !manifest.worker && !(Array.isArray(manifest.ac_ids) && manifest.ac_ids.length);
  return CYCLE_PHASES.map((name): TimelinePhase => {
    const r = record?.phases?.find((p) => p.name === name);
    const checkSteps = name === 'CHECK' ? steps.map((s) => ({ name: s.name, status: s.status, durationMs: s.durationMs })) : [];
    if (r) {
      const started = str(r.startedAt);
      const ended = str(r.endedAt);
      const durationMs = num(r.durationMs) ?? (started && ended ? Math.max(0, Date.parse(ended) - Date.parse(started)) || null : null);
      return { name, status: r.status, startedAt: started, durationMs, steps: checkSteps, detail: recordedDetail(name, r.status, durationMs, record?.status, cache) };
    }
    if (name === 'CHECK' && (steps.length || manifest?.gates)) {
      const failed = steps.some((s) => s.status !== 'PASS' && s.status !== 'SKIPPED') || Object.values((manifest?.gates as Record<string, unknown>) ?? {}).some((g) => g !== 'PASS' && g !== 'SKIPPED');
      const total = steps.reduce((a, s) => a + (s.durationMs ?? 0), 0);
      const detail = cache.hit ? `Gate from cache${cache.source ? ` (PASS of ${cache.source})` : ''}` : null;
      return { name, status: failed ? 'FAIL' : 'PASS', startedAt: steps[0]?.startedAt ?? null, durationMs: steps.length ? total : (num(manifest?.duration_seconds) ?? 0) * 1000, steps: checkSteps, detail };
    }
    if (gateRun) return { name, status: 'SKIPPED', startedAt: null, durationMs: null, steps: [], detail: 'not part of a Gate run' };
    if (name === 'DO' && manifest?.worker && typeof manifest.worker === 'object') {
      const w = manifest.worker as Record<string, unknown>;
      const claimed = w.claimed_status === 'PASS' ? 'PASS' : w.claimed_status === 'FAIL' ? 'FAIL' : 'UNKNOWN';
      return { name, status: claimed, startedAt: null, durationMs: null, steps: [], detail: claimed === 'UNKNOWN' ? null : `the Worker claimed ${claimed}` };
    }
    if (manifest && !record && (name === 'PLAN' || name === 'ADJUST')) {
      if (name === 'PLAN') return { name, status: 'PASS', startedAt: str(manifest.timestamp), durationMs: null, steps: [], detail: 'done' };
      const applied = manifest.status === 'PASS';
      return { name, status: applied ? 'PASS' : 'SKIPPED', startedAt: null, durationMs: null, steps: [], detail: applied ? 'applied (its history line not written yet)' : `nothing applied (${cut(manifest.status ?? 'not PASS', 40)})` };
    }
    return { name, status: 'UNKNOWN', startedAt: null, durationMs: null, steps: [] };
  });
}

function emptySnapshot(budgetUsd: number, note: string): RunSnapshot {
  return {
    runId: null, ticketId: null, taskName: null, status: 'NONE', timestamp: null, durationSeconds: null,
    timeline: CYCLE_PHASES.map((name) => ({ name, status: 'PENDING', startedAt: null, durationMs: null, steps: [] })),
    manifest: [], kpi: [], gates: [], scopeViolations: [], audit: null, cost: { spentUsd: null, budgetUsd }, note,
  };
}

/**
 * The newest evidence run of the workspace at `root` as a Run panel snapshot, plus the log files
 * to stream. Never throws on content: a broken or missing run gives a snapshot with a note.
 */
export function loadLatestRun(root: string, config: FactoryConfig, runId?: string): LatestRun {
  const budgetUsd = config.killSwitch.budgetUsd;
  const evidenceDir = path.join(root, config.paths.evidence);
  const runs = listRuns(evidenceDir);
  // A cycle that ended without evidence (FAIL, BLOCKED, ABORTED) is still a run: show its history line.
  if (runId && !runs.includes(runId)) {
    const fromHistory = historyOnlyRun(root, config, runId);
    if (fromHistory) return { snapshot: fromHistory, logs: {} };
  }
  const id = runId && runs.includes(runId) ? runId : runs[0];
  if (!id) return { snapshot: emptySnapshot(budgetUsd, `No evidence run yet under ${config.paths.evidence}/. Run a cycle to see it here.`), logs: {} };
  const runDir = path.join(evidenceDir, id);
  const manifest = readJson(path.join(runDir, 'manifest.json'));
  const kpi = readJson(path.join(runDir, 'kpi.json'));
  const history = readHistory(path.join(root, config.paths.autopilot, 'history.jsonl'));
  const record = history.records.findLast((r) => r.runId === id);

  const gateLog = regularFile(path.join(runDir, 'gate.log')) ? path.join(runDir, 'gate.log') : undefined;
  let steps: GateStep[] = [];
  if (gateLog) {
    // Only the head matters for the step list; a huge log is streamed, not parsed here.
    const fd = fs.openSync(gateLog, 'r');
    try {
      const buf = Buffer.alloc(Math.min(fs.fstatSync(fd).size, 1024 * 1024));
      fs.readSync(fd, buf, 0, buf.length, 0);
      steps = parseGateSteps(buf.toString('utf8'));
    } finally {
      fs.closeSync(fd);
    }
  }
  const workerName = WORKER_LOG_NAMES.find((n) => regularFile(path.join(runDir, n)));

  const files = Array.isArray(manifest?.files)
    ? (manifest.files as unknown[])
        .filter((f): f is Record<string, unknown> => !!f && typeof f === 'object')
        .map((f) => ({ path: String(f.path), bytes: num(f.bytes) }))
    : fs
        .readdirSync(runDir, { withFileTypes: true })
        .filter((d) => d.isFile())
        .map((d) => ({ path: d.name, bytes: regularFile(path.join(runDir, d.name))?.size ?? null }));
  const manifestRows = [{ path: 'manifest.json', bytes: regularFile(path.join(runDir, 'manifest.json'))?.size ?? null }, ...files]
    .filter((f, i, all) => evidenceFileSchema.safeParse(f.path).success && all.findIndex((g) => g.path === f.path) === i)
    .slice(0, 1000);

  const gates = Object.entries({ ...((manifest?.guards as Record<string, unknown>) ?? {}), ...((manifest?.gates as Record<string, unknown>) ?? {}) })
    .slice(0, 100)
    .map(([name, status]) => ({ name: cut(name), status: cut(status) }));
  const violations = record?.scopeViolations ?? manifest?.scope_violations;
  // History's audit wins over the manifest's; only a report object (not a bare verdict) is shown here.
  const audit = record?.audit ?? (manifest?.audit as Record<string, unknown> | undefined);
  const spent = num(manifest?.cost_usd) ?? record?.costUsd ?? num(kpi?.cost_usd);

  return {
    snapshot: {
      runId: id,
      ticketId: str(manifest?.ticket_id) ?? str(record?.ticketId),
      taskName: str(manifest?.task_name),
      status: record?.status ?? str(manifest?.status) ?? (manifest ? 'UNKNOWN' : 'INCOMPLETE'),
      timestamp: str(manifest?.timestamp),
      durationSeconds: num(manifest?.duration_seconds),
      timeline: buildTimeline(record, manifest, steps),
      manifest: manifestRows,
      kpi: kpiRows(kpi),
      gates,
      scopeViolations: Array.isArray(violations) ? violations.slice(0, 1000).map((v) => cut(v)) : [],
      audit: audit && typeof audit === 'object' ? { verdict: cut(audit.verdict ?? 'UNKNOWN'), summary: cut(audit.summary ?? audit.reason ?? '') } : null,
      cost: { spentUsd: spent, budgetUsd },
      // A run that did not PASS says why (its history line's reasons; the evidence's error.log has them too).
      note: manifest ? recordNote(record) : `Run ${id} has no readable manifest.json (still being written, or broken).`,
      // Who ran each role and what it spent, as the history line recorded it.
      routing: historyRouting(record, tierLookup(config)),
    },
    logs: { gate: gateLog, worker: workerName ? path.join(runDir, workerName) : undefined },
    runDir,
  };
}

/** The tier of a model in the config's price table (built-in prices with `prices` over them). */
function tierLookup(config: FactoryConfig): (model: string) => string | undefined {
  const table = PriceTable.withOverrides(config.prices);
  return (model) => table.tierOf(model);
}

/** The history line's reasons (or a recovery's one reason) as the panel's note; null when there are none. */
function recordNote(record: HistoryLine | undefined): string | null {
  const reasons = record?.reasons?.length ? record.reasons : record?.reason ? [record.reason] : [];
  return reasons.length ? cut(reasons.join('; ')) : null;
}

/** A run known only from history.jsonl (no evidence folder): status, ticket, cost, reasons. */
function historyOnlyRun(root: string, config: FactoryConfig, runId: string): RunSnapshot | undefined {
  const history = readHistory(path.join(root, config.paths.autopilot, 'history.jsonl'));
  const record = history.records.findLast((r) => r.runId === runId);
  if (!record) return undefined;
  const status = record.status;
  const audit = record.audit;
  return {
    ...emptySnapshot(config.killSwitch.budgetUsd, recordNote(record) ?? `Run ${runId} left no evidence (${status}).`),
    runId,
    ticketId: str(record.ticketId),
    status,
    timestamp: str(record.endedAt),
    // Its phases as the history line recorded them (what each did), not "not recorded".
    timeline: buildTimeline(record, undefined, []),
    scopeViolations: (record.scopeViolations ?? []).slice(0, 1000).map((v) => cut(v)),
    audit: typeof audit === 'string' ? { verdict: cut(audit), summary: '' } : null,
    cost: { spentUsd: record.costUsd ?? null, budgetUsd: config.killSwitch.budgetUsd },
    routing: historyRouting(record, tierLookup(config)),
  };
}

/**
 * The absolute path of `file` in the run folder, only if the shown run's manifest listed it, it
 * stays inside the folder (also after resolving symlinked parents) and it is a regular file (no
 * symlink). Anything else is undefined: the webview's request never becomes an arbitrary path.
 */
export function resolveEvidenceFile(runDir: string, listed: readonly string[], file: string): string | undefined {
  if (!listed.includes(file) || !evidenceFileSchema.safeParse(file).success) return undefined;
  const target = path.resolve(runDir, file);
  if (!target.startsWith(runDir + path.sep) || !regularFile(target)) return undefined;
  try {
    const realDir = fs.realpathSync.native(runDir);
    return fs.realpathSync.native(target).startsWith(realDir + path.sep) ? target : undefined;
  } catch {
    return undefined;
  }
}
