import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import type { GateReport, StepResult } from '../gate/gate-model';
import { gateSummary } from '../gate/gate-model';
import { describeCounts } from '../gate/test-counts';
import { formatArgv, logTimestamp } from '../gate/gate-log';
import { atomicWrite } from '../util/atomic-write';
import { FactoryError } from '../util/errors';
import {
  ERROR_LOG_FILE,
  EVIDENCE_SCHEMA_VERSION,
  MANIFEST_FILE,
  PNL_FILE,
  type BaselineRecord,
  type EvidenceManifest,
  type GitInfo,
  type Kpi,
  type KpiStep,
  type RunStatus,
  type VerifiedRecord,
} from './evidence-format';
import { renderReadme } from './readme';
import { RUN_ID_RE, formatRunId, runLabel } from './run-id';

/** One line of cmd_history.txt beyond the Gate's own steps (the Worker's run, a git commit). */
export interface CommandRecord {
  title: string;
  command: string | string[];
  status: string;
}

export interface EvidenceInput {
  /** Ticket id, or a task label such as `gate_doctor` for a Gate run without a ticket. */
  ticketId: string;
  taskName?: string;
  acIds?: string[];
  status: RunStatus;
  startedAt: Date;
  endedAt: Date;
  git: GitInfo;
  gate?: GateReport;
  /** Commands run besides the Gate's, in order (they precede the Gate in cmd_history.txt). */
  commands?: CommandRecord[];
  /** Extra KPI fields (the Worker's kpi_summary after validation). */
  kpi?: Record<string, unknown>;
  /**
   * Written as pnl_breakdown.json. Required for a PASS of a profit-related ticket ("no DONE without
   * evidence"); a FAIL run is recorded without it.
   */
  pnlBreakdown?: Record<string, unknown>;
  profitRelated?: boolean;
  worker?: { claimedStatus: string; recordedStatus: string; overridden: boolean; model?: string };
  costUsd?: number;
  /** Further files, relative to the run folder (validated Worker evidence, `artifacts/…`). */
  extraFiles?: { path: string; content: string | Buffer }[];
  /** The reproduction commands for README.md of a run without a verified tree. */
  reproduce?: readonly string[];
  /** What a PASS verified (tree, changes, Gate image): README's exact commands, `evidence-check --reproduce`. */
  verified?: VerifiedRecord;
  /** The changeset's size in lines (kpi.json). */
  changeset?: { files: number; linesAdded: number; linesRemoved: number };
  /** The baseline on HEAD the run started from (kpi.json, manifest, README). */
  baseline?: BaselineRecord;
  /** README lines after the reproduction: a non-PASS run's "What happened". */
  notes?: string[];
  /** Why a run that is not a PASS failed, one reason per entry (written to error.log with the Gate's failure). */
  reasons?: string[];
  environment?: Record<string, string>;
  /**
   * Use this run id instead of allocating one: its folder may already exist (from
   * {@link allocateRunDir}) but must not hold a manifest yet.
   */
  runId?: string;
}

export interface WrittenEvidence {
  runId: string;
  dir: string;
  manifest: EvidenceManifest;
}

/** True when the ticket matches one of the configured profit-ticket globs (`evidence.profitTickets`). */
export function isProfitTicket(ticketId: string, profitTickets: string[]): boolean {
  return profitTickets.length > 0 && picomatch(profitTickets, { nocase: true })(ticketId);
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Creates `<evidenceDir>/<run_id>/` with an exclusive mkdir. Two runs that start in the same second
 * for the same ticket would collide; the later one moves its id on by a second (the id is a label,
 * and keeping its format matters more than the exact second). `preferred`: a run id to take first
 * when it is free and well-formed (a cycle's own id), before any computed one.
 */
export async function allocateRunDir(evidenceDir: string, startedAt: Date, ticketId: string, commit: string | null, preferred?: string): Promise<{ runId: string; dir: string }> {
  await fs.promises.mkdir(evidenceDir, { recursive: true });
  const ids = preferred !== undefined && RUN_ID_RE.test(preferred) ? [preferred] : [];
  for (let i = 0; i < 600; i++) ids.push(formatRunId(new Date(startedAt.getTime() + i * 1000), ticketId, commit ?? undefined));
  for (const runId of ids) {
    const dir = path.join(evidenceDir, runId);
    try {
      await fs.promises.mkdir(dir);
      return { runId, dir };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new FactoryError(`could not allocate an evidence folder under ${evidenceDir}`, 'evidence.allocate');
}

function stepLine(s: StepResult): string {
  const detail = s.counts ? ` (${describeCounts(s.counts)})` : s.reason ? ` (${s.reason})` : '';
  return `${s.status}${detail}${s.cached ? ' [cached]' : ''}`;
}

function renderCmdHistory(input: EvidenceInput, runId: string): string {
  const out: string[] = [];
  out.push(`# ${input.ticketId}${input.taskName ? ` ${input.taskName}` : ''}`);
  out.push(`# Run: ${runId}`);
  out.push(`# Execution: ${logTimestamp(input.startedAt)} UTC`);
  for (const c of input.commands ?? []) {
    out.push('', `## ${c.title}`, `Command: ${Array.isArray(c.command) ? formatArgv(c.command) : c.command}`, `Status: ${c.status}`);
  }
  if (input.gate) {
    if (input.gate.cache?.hit) {
      out.push('', '## Gate cache', `Command: (none: PASS reused from run ${input.gate.cache.sourceRunId ?? 'unknown'})`, 'Status: PASS [cached]');
    }
    for (const s of [...input.gate.guards, ...input.gate.stages]) {
      out.push('', `## ${s.kind === 'guard' ? 'Guard' : 'Gate'}: ${s.name}`, `Command: ${formatArgv(s.argv)}`, `Status: ${stepLine(s)}`);
    }
  }
  if ((input.commands ?? []).length === 0 && !input.gate) out.push('', '## (no commands run)');
  return out.join('\n') + '\n';
}

/** error.log: the reasons, then the failed Gate step with its failed tests and output tail. */
function renderErrorLog(input: EvidenceInput): string {
  const out: string[] = [`Status: ${input.status}`];
  for (const r of input.reasons ?? []) out.push(`Reason: ${r}`);
  const failed = [...(input.gate?.guards ?? []), ...(input.gate?.stages ?? [])].find((s) => s.status !== 'PASS' && s.status !== 'SKIPPED');
  if (failed) {
    out.push(`Failed step: ${failed.kind} ${failed.name} (${failed.status}${failed.reason ? `: ${failed.reason}` : ''})`);
    for (const t of failed.counts?.failedTests ?? []) out.push(`Failed test: ${t}`);
    if (failed.outputTail) out.push('Output (tail):', ...failed.outputTail.split('\n').map((l) => `| ${l}`));
  }
  if (out.length === 1) out.push('Reason: (none recorded)');
  return out.join('\n') + '\n';
}

/** kpi.json's per-step record: status, test counts as the Gate parsed them, duration, command. */
function kpiStep(s: StepResult): KpiStep {
  const c = s.counts;
  return {
    kind: s.kind,
    name: s.name,
    status: s.status,
    tests: c ? { passed: c.passed, failed: c.failed, skipped: c.skipped, errors: c.errors } : null,
    duration_seconds: Math.max(0, s.durationMs / 1000),
    command: s.argv,
    cached: s.cached === true,
  };
}

function kpiOf(input: EvidenceInput, runId: string): Kpi {
  const tests = { passed: 0, failed: 0, skipped: 0, errors: 0 };
  for (const s of input.gate?.stages ?? []) {
    if (!s.counts) continue;
    tests.passed += s.counts.passed;
    tests.failed += s.counts.failed;
    tests.skipped += s.counts.skipped;
    tests.errors += s.counts.errors;
  }
  return {
    ...(input.kpi ?? {}),
    run_id: runId,
    status: input.status,
    duration_seconds: Math.max(0, (input.endedAt.getTime() - input.startedAt.getTime()) / 1000),
    tests,
    cost_usd: input.costUsd ?? null,
    ...(input.gate ? { steps: [...input.gate.guards, ...input.gate.stages].map(kpiStep) } : {}),
    ...(input.changeset ? { changeset: { files: input.changeset.files, lines_added: input.changeset.linesAdded, lines_removed: input.changeset.linesRemoved } } : {}),
    ...(input.baseline ? { baseline: input.baseline } : {}),
  };
}

function safeExtraPath(p: string): string {
  const norm = p.replace(/\\/g, '/');
  if (norm.startsWith('/') || norm.split('/').some((s) => s === '..' || s === '' || s === '.')) {
    throw new FactoryError(`evidence file path not allowed: ${p}`, 'evidence.path');
  }
  return norm;
}

/**
 * Writes one evidence run: gate.log, git_info.json, cmd_history.txt, kpi.json, README.md (three-line
 * reproduction), pnl_breakdown.json for profit tickets, per-step outputs under artifacts/, any
 * extra files, and finally manifest.json listing every file with its sha256 and size. Every file
 * is written atomically and the manifest last, so a run folder with a manifest is complete.
 */
export async function writeEvidence(evidenceDir: string, input: EvidenceInput): Promise<WrittenEvidence> {
  const profit = input.profitRelated ?? false;
  if (profit && input.status === 'PASS' && !input.pnlBreakdown) {
    throw new FactoryError(`ticket ${input.ticketId} is profit-related: a PASS needs pnl_breakdown.json`, 'evidence.pnl-missing');
  }
  let runId: string;
  let dir: string;
  if (input.runId) {
    runId = input.runId;
    dir = path.join(evidenceDir, runId);
    await fs.promises.mkdir(dir, { recursive: true });
    if (fs.existsSync(path.join(dir, MANIFEST_FILE))) throw new FactoryError(`evidence run ${runId} already exists`, 'evidence.exists');
  } else {
    ({ runId, dir } = await allocateRunDir(evidenceDir, input.startedAt, input.ticketId, input.git.commit));
  }

  const files = new Map<string, string | Buffer>();
  files.set('gate.log', input.gate?.log ?? `[${logTimestamp(input.startedAt)}] ===== GATE NOT RUN =====\n[${logTimestamp(input.endedAt)}] Status: ${input.status}\n`);
  files.set('git_info.json', JSON.stringify(input.git, null, 2) + '\n');
  files.set('cmd_history.txt', renderCmdHistory(input, runId));
  files.set('kpi.json', JSON.stringify(kpiOf(input, runId), null, 2) + '\n');
  files.set('README.md', renderReadme({ ...input, runId, commit: input.git.commit }));
  if (input.status !== 'PASS') files.set(ERROR_LOG_FILE, renderErrorLog(input));
  if (input.pnlBreakdown) files.set(PNL_FILE, JSON.stringify(input.pnlBreakdown, null, 2) + '\n');
  for (const s of [...(input.gate?.guards ?? []), ...(input.gate?.stages ?? [])]) {
    if (s.output) files.set(`artifacts/${s.kind}_${runLabel(s.name)}.log`, s.output);
  }
  for (const f of input.extraFiles ?? []) {
    const p = safeExtraPath(f.path);
    if (files.has(p) || p === MANIFEST_FILE) throw new FactoryError(`evidence file ${p} would overwrite a Controller file`, 'evidence.path');
    files.set(p, f.content);
  }

  // The files are independent of each other: written side by side (each atomically), the
  // manifest that lists them last, so a run without a manifest is one still being written.
  const abs = (rel: string) => path.join(dir, ...rel.split('/'));
  for (const d of new Set([...files.keys()].map((rel) => path.dirname(abs(rel))))) await fs.promises.mkdir(d, { recursive: true });
  await Promise.all([...files].map(([rel, content]) => atomicWrite(abs(rel), content)));
  const entries: EvidenceManifest['files'] = [...files].map(([rel, content]) => ({ path: rel, sha256: sha256(content), bytes: Buffer.byteLength(content) }));
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  const manifest: EvidenceManifest = {
    schema_version: EVIDENCE_SCHEMA_VERSION,
    run_id: runId,
    timestamp: input.startedAt.toISOString(),
    d_number: runLabel(input.ticketId),
    ticket_id: input.ticketId,
    task_name: input.taskName ?? '',
    ac_ids: input.acIds ?? [],
    status: input.status,
    duration_seconds: Math.max(0, (input.endedAt.getTime() - input.startedAt.getTime()) / 1000),
    git: { branch: input.git.branch, commit: input.git.commit, status: input.git.status },
    gates: input.gate ? gateSummary(input.gate) : {},
    guards: Object.fromEntries((input.gate?.guards ?? []).map((g) => [g.name, g.status])),
    gate_cache: input.gate?.cache
      ? { key: input.gate.cache.key, hit: input.gate.cache.hit, source_run_id: input.gate.cache.sourceRunId ?? null }
      : null,
    runner: input.gate ? { kind: input.gate.runner, identity: input.gate.runnerIdentity } : null,
    worker: input.worker
      ? { claimed_status: input.worker.claimedStatus, recorded_status: input.worker.recordedStatus, overridden: input.worker.overridden, model: input.worker.model ?? null }
      : null,
    cost_usd: input.costUsd ?? null,
    profit_related: profit,
    environment: { node_version: process.version, platform: process.platform, ...(input.environment ?? {}) },
    files: entries,
    ...(input.verified ? { verified: input.verified } : {}),
    ...(input.baseline ? { baseline: input.baseline } : {}),
  };
  await atomicWrite(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  return { runId, dir, manifest };
}
