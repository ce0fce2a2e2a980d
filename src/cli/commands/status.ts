import type { Command } from 'commander';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { FactoryConfig } from '../../core/config/schema';
import type { Diagnostic, SsotIndex, Status } from '../../core/ssot/model';
import type { StatusReport } from '../../core/ssot/status';
import type { BlockedTicket } from '../../core/cycle/blocked-summary';
import { FactoryError } from '../../core/util/errors';
import { printJson, runCommand } from '../io';
import { collectCost, currentMonth, renderCost, type StatusCost } from './status-cost';
import { collectPush, renderPush, type StatusPush } from './status-push';

/**
 * `factory status [--root DIR] [--json]` — the spec's `just factory_status`: progress DONE/TOTAL,
 * the queue pointer (first OPEN AC in ledger order) and the next three, tickets by status, the
 * newest evidence run, and every diagnostic. Exit 0 when the report was produced (diagnostics
 * included), 2 when the config is unreadable or an SSOT document is missing.
 */
export function register(program: Command): void {
  program
    .command('status')
    .description('Progress, queue pointer, tickets by status, last evidence run and SSOT diagnostics')
    .option('--root <dir>', 'workspace root', process.cwd())
    .option('--json', 'print one JSON object instead of the human summary')
    .option('--month <YYYYMM>', 'the month whose cost is shown (UTC; default: this month)')
    .action(async (opts: { root: string; json?: boolean; month?: string }) => {
      await runCommand(async (signal) => {
        if (opts.month !== undefined && !/^\d{4}(0[1-9]|1[0-2])$/.test(opts.month)) throw new FactoryError(`--month: expected YYYYMM, got ${opts.month}`, 'usage');
        const result = await collectStatus(path.resolve(opts.root), signal, opts.month);
        if (opts.json) printJson(result);
        else process.stdout.write(renderStatus(result));
        return 0;
      });
    });
}

/** The newest evidence run under `config.paths.evidence`, as far as its manifest tells. */
export interface EvidenceRun {
  runId: string;
  /** Repo-relative folder, forward slashes. */
  path: string;
  /** manifest.json `status` (PASS/FAIL/…), when present. */
  status?: string;
  ticketId?: string;
  /** ISO time from the manifest, else the folder's mtime. */
  timestamp: string;
  /** Gate stage → result, from the manifest. */
  gates?: Record<string, string>;
}

export interface TicketLine {
  id: string;
  title: string;
  phase?: string;
  status: Status;
  done?: number;
  total?: number;
}

/** What `factory status --json` prints: the core's StatusReport plus the CLI's context. */
export interface StatusOutput extends Omit<StatusReport, 'tickets' | 'diagnostics'> {
  root: string;
  /** Config file used (repo-relative), or null when the defaults apply. */
  config: { file: string | null };
  tickets: StatusReport['tickets'] & { list: TicketLine[] };
  lastEvidence: EvidenceRun | null;
  /** The BLOCKED tickets with why (issue 20): roadmap reason, the attempts, the failing Gate step, the Auditor's findings. */
  blocked: BlockedTicket[];
  /** The month's model spend (cost_summary_YYYYMM.json, or computed from history.jsonl). */
  cost: StatusCost;
  /** `git.push` on: commits not on the upstream (from git) and the last push's failure. */
  push?: StatusPush;
  diagnostics: Diagnostic[];
}

/**
 * Everything `factory status` shows, computed from the workspace at `root`.
 * Throws FactoryError (exit 2) on an invalid config or a missing roadmap/ledger.
 */
export async function collectStatus(root: string, signal?: AbortSignal, month: string = currentMonth()): Promise<StatusOutput> {
  // Lazy imports: markdown-it and zod load only for commands that read the SSOT (lean start-up).
  const [{ loadConfigStrict, CONFIG_FILE }, { indexWorkspace }, { computeStatus }, { findDeletedAcs }] = await Promise.all([
    import('../../core/config/load'),
    import('../../core/ssot/workspace'),
    import('../../core/ssot/status'),
    import('../../core/ssot/invariants'),
  ]);
  const loaded = await loadConfigStrict(root);
  const config = loaded.config;
  await requireSsotDocuments(root, config);

  // The deleted-AC check against git HEAD (SEC-30) waits on a git process: start it first and
  // parse meanwhile, instead of letting indexWorkspace run it after parsing.
  const [index, deleted]: [SsotIndex, Diagnostic[]] = await Promise.all([
    indexWorkspace(root, config, { signal, git: false }),
    findDeletedAcs(root, config.ssot.ledger, { signal }),
  ]);
  index.diagnostics.push(...deleted);
  const report = computeStatus(index);
  // History, evidence and audit reports are read (zod loaded) only when some ticket is BLOCKED.
  const blocked = index.tickets.some((t) => t.status === 'BLOCKED') ? (await import('../../core/cycle/blocked-summary')).blockedTickets(root, config, index.tickets) : [];
  const push = await collectPush(root, config.git.push, signal);
  const extra: Diagnostic[] = [...loaded.diagnostics];
  if (!(await exists(path.join(root, config.ssot.rules)))) {
    extra.push({
      file: config.ssot.rules,
      line: 1,
      severity: 'warning',
      code: 'ssot.missing-rules',
      message: `${config.ssot.rules} does not exist; the Worker and the Auditor get no rules`,
    });
  }
  return {
    root,
    config: { file: loaded.file ? CONFIG_FILE : null },
    acs: report.acs,
    tickets: {
      ...report.tickets,
      list: index.tickets.map((t) => ({ id: t.id, title: t.title, phase: t.phase, status: t.status, done: t.done, total: t.total })),
    },
    next: report.next,
    upcoming: report.upcoming,
    queueSource: report.queueSource,
    problems: countProblems([...extra, ...report.diagnostics]),
    lastEvidence: await latestEvidenceRun(root, config.paths.evidence),
    blocked,
    cost: await collectCost(root, config.paths.autopilot, month),
    ...(push ? { push } : {}),
    diagnostics: [...extra, ...report.diagnostics].map((d) => ({ ...d, file: d.file.split(path.sep).join('/') })),
  };
}

/** The roadmap and the ledger must both exist: one names the tickets, the other is the queue. */
async function requireSsotDocuments(root: string, config: FactoryConfig): Promise<void> {
  const missing: string[] = [];
  for (const rel of [config.ssot.roadmap, config.ssot.ledger]) {
    if (!(await exists(path.join(root, rel)))) missing.push(rel);
  }
  if (missing.length > 0) {
    throw new FactoryError(
      `missing SSOT document(s) under ${root}: ${missing.join(', ')} (run \`factory init\` to scaffold them)`,
      'ssot.missing',
    );
  }
}

/** At most this many run folders are looked at; a bigger evidence folder is reported partially. */
const MAX_RUNS_SCANNED = 5000;
const MAX_MANIFEST_BYTES = 256 * 1024;

/**
 * The newest run folder under `evidenceRel`: ordered by the manifest's `timestamp`/`created_at`,
 * else by the folder's mtime. Symlinked folders are ignored (never followed). Null when none.
 */
export async function latestEvidenceRun(root: string, evidenceRel: string): Promise<EvidenceRun | null> {
  const dir = path.join(root, evidenceRel);
  let entries;
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return null;
  }
  let best: { run: EvidenceRun; time: number } | undefined;
  for (const e of entries.filter((x) => x.isDirectory()).slice(0, MAX_RUNS_SCANNED)) {
    const runDir = path.join(dir, e.name);
    const manifest = await readManifest(path.join(runDir, 'manifest.json'));
    let time = Date.parse(str(manifest?.timestamp) ?? str(manifest?.created_at) ?? '');
    if (Number.isNaN(time)) time = (await fsp.stat(runDir)).mtimeMs;
    if (best && (time < best.time || (time === best.time && e.name < best.run.runId))) continue;
    const gates = manifest?.gates ?? manifest?.gate_results;
    best = {
      time,
      run: {
        runId: e.name,
        path: [evidenceRel.split(path.sep).join('/').replace(/\/+$/, ''), e.name].join('/'),
        status: str(manifest?.status) ?? str(manifest?.verdict),
        ticketId: str(manifest?.ticket_id),
        timestamp: new Date(time).toISOString(),
        gates: isStringRecord(gates) ? gates : undefined,
      },
    };
  }
  return best?.run ?? null;
}

async function readManifest(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    const stat = await fsp.lstat(file);
    if (!stat.isFile() || stat.size > MAX_MANIFEST_BYTES) return undefined;
    const value: unknown = JSON.parse(await fsp.readFile(file, 'utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

async function exists(file: string): Promise<boolean> {
  try {
    await fsp.stat(file);
    return true;
  } catch {
    return false;
  }
}

function countProblems(diagnostics: Diagnostic[]): StatusReport['problems'] {
  const p = { errors: 0, warnings: 0, infos: 0 };
  for (const d of diagnostics) {
    if (d.severity === 'error') p.errors++;
    else if (d.severity === 'warning') p.warnings++;
    else p.infos++;
  }
  return p;
}

/** Statuses in the order a person scans them: what needs attention first. */
const STATUS_ORDER: Status[] = ['BLOCKED', 'IN_PROGRESS', 'PARTIAL', 'OPEN', 'LOST_EVIDENCE', 'UNKNOWN', 'DONE'];
const MAX_IDS_PER_STATUS = 12;

/** The human summary (plain text; no colour, so it pipes and logs cleanly). */
export function renderStatus(s: StatusOutput): string {
  const out: string[] = [];
  const pct = s.acs.total > 0 ? Math.round((100 * s.acs.done) / s.acs.total) : 0;
  out.push(`Agentic Factory status — ${s.root}`);
  out.push(`Config     ${s.config.file ?? '(defaults; no .factory/config.json)'}`);
  out.push(`Progress   ${s.acs.done}/${s.acs.total} ACs DONE (${pct}%)${countsSuffix(s.acs.byStatus)}`);
  if (s.next) {
    out.push(`Current    ${s.next.acId}  ${s.next.title}`);
    s.upcoming.forEach((u, i) => out.push(`${i === 0 ? 'Next       ' : '           '}${u.acId}  ${u.title}`));
  } else {
    out.push('Current    none: no OPEN AC in the queue');
  }
  out.push(`Tickets    ${s.tickets.done}/${s.tickets.total} DONE${countsSuffix(s.tickets.byStatus)}`);
  for (const status of STATUS_ORDER) {
    const ids = s.tickets.list.filter((t) => t.status === status);
    if (ids.length === 0) continue;
    const shown = ids.slice(0, MAX_IDS_PER_STATUS).map((t) => (t.total !== undefined ? `${t.id} (${t.done ?? 0}/${t.total})` : t.id));
    const more = ids.length > MAX_IDS_PER_STATUS ? `, +${ids.length - MAX_IDS_PER_STATUS} more` : '';
    out.push(`  ${status.padEnd(13)}${shown.join(', ')}${more}`);
  }
  out.push(...renderBlocked(s.blocked));
  const ev = s.lastEvidence;
  if (ev) {
    const gates = ev.gates ? `  [${Object.entries(ev.gates).map(([k, v]) => `${k} ${v}`).join(', ')}]` : '';
    out.push(`Evidence   ${ev.path}  ${ev.status ?? 'status unknown'}${ev.ticketId ? `  ${ev.ticketId}` : ''}  ${ev.timestamp}${gates}`);
  } else {
    out.push('Evidence   none yet');
  }
  out.push(...renderCost(s.cost));
  out.push(...renderPush(s.push));
  if (s.diagnostics.length === 0) {
    out.push('Problems   none');
  } else {
    out.push(`Problems   ${s.problems.errors} error(s), ${s.problems.warnings} warning(s), ${s.problems.infos} info`);
    for (const d of s.diagnostics) out.push(`  ${d.file}:${d.line}: ${d.severity}: ${d.message}${d.code ? ` [${d.code}]` : ''}`);
  }
  return out.join('\n') + '\n';
}

/** The BLOCKED section: a line per ticket with its reason and last failure, its evidence and the Auditor's verdict. */
export function renderBlocked(blocked: readonly BlockedTicket[]): string[] {
  if (!blocked.length) return [];
  const out = [`Blocked    ${blocked.length} ticket${blocked.length === 1 ? ' needs' : 's need'} a person — retry: factory run --ticket <T> --unblock [--agent A] [--model M]`];
  for (const b of blocked) {
    const audit = b.audit ? ` · Auditor ${b.audit.verdict}${b.audit.findings.length ? ` (${b.audit.findings.length} finding${b.audit.findings.length === 1 ? '' : 's'})` : ''} ${b.audit.file}` : '';
    out.push(`  BLOCKED  ${b.ticketId}  ${b.headline}${b.evidence ? ` · evidence ${b.evidence}` : ''}${audit}`);
  }
  return out;
}

function countsSuffix(byStatus: Record<string, number>): string {
  const parts = Object.entries(byStatus)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`);
  return parts.length > 0 ? `  — ${parts.join(', ')}` : '';
}
