import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Docker from 'dockerode';
import type { Change } from '../changeset/diff';
import type { FactoryConfig } from '../config/schema';
import { readAuditReport, type AuditReport } from '../contracts/audit-report';
import type { Plan } from '../contracts/plan';
import type { GatewayRecord, ProviderKeys } from '../gateway/gateway';
import type { ContainerResult } from '../sandbox/container-spec';
import { SANDBOX_PATHS, containerOutputDir, jobLimits, runJob, type ContainerJob } from '../sandbox/job';
import { runGit } from '../git/git';
import { prepareWorkerLaunch, type WorkerLaunch } from '../sandbox/worker-launch';
import { auditorRoute } from '../plan/routing';
import { errorMessage } from '../util/errors';
import { nullLogger, type Logger } from '../util/log';

/** Where the Auditor finds its inputs inside its container (all read-only). */
export const AUDIT_PATHS = {
  dir: '/factory/audit',
  diff: '/factory/audit/changeset.diff',
  rules: '/factory/audit/SSOT_RULES.md',
  plan: '/factory/plan/plan.json',
  report: '/factory/out/audit_report.json',
} as const;

export interface AuditRequest {
  root: string;
  config: FactoryConfig;
  plan: Plan;
  /** The tree to audit on the host (a cycle's staging copy, or the working tree); mounted read-only. */
  workspace: string;
  /** The changeset under audit (relative to `workspace`); its diff against `baseRef` is what the Auditor reads. */
  changes: readonly Pick<Change, 'path' | 'kind'>[];
  /** Commit the changes are relative to (default: the root's HEAD). */
  baseRef?: string;
  rules: string;
  /** The replay agent's recording for this audit (tests, demo); otherwise `config.auditor.agent` runs. */
  replayFile?: string;
  image?: string;
  runtimeFile?: string;
  reason: 'risk' | 'escalation' | 'manual';
  /** Provider keys for the gateway (default: the host environment's). */
  keys?: ProviderKeys;
  /**
   * Who audits (the cost gate's choice): default `plan.routing.auditor`, else the config's
   * `auditor` overrides over `routing.levels.HIGH.auditor`. A replay recording still runs the
   * replay agent, with this route's model (so the meter names it).
   */
  route?: { agent: string; model?: string | undefined };
  /** The Auditor's share of the cycle budget (USD); default config.killSwitch.budgetUsd. */
  budgetUsd?: number;
  /** Every record the Auditor's gateway makes (live spend). */
  onRecord?: (r: GatewayRecord) => void;
}

export interface AuditOutcome {
  report: AuditReport;
  costUsd: number;
  durationMs: number;
  /** Who audited: the agent that ran and the model it was given. */
  agent: string;
  model?: string;
  /** The Auditor gateway's records (provider, model, tokens, cost). */
  records: GatewayRecord[];
  /** The gateway refused a call for budget and the Auditor was stopped: a budget cap, not a verdict. */
  budgetHit: boolean;
}

/**
 * Who the Auditor runs as: the request's route, else the plan's routed Auditor, else the routing
 * table's for the plan's ticket and risk (plans written before routing). A replay recording (tests, demo) runs
 * the replay agent whatever the route, with the route's model, so the meter still names it.
 */
export function auditorRouteOf(req: Pick<AuditRequest, 'route' | 'plan' | 'config' | 'replayFile'>): { agent: string; model?: string } {
  const r = req.route ?? req.plan.routing?.auditor ?? auditorRoute(req.config, req.plan.ticket_id, req.plan.risk_level);
  const agent = req.replayFile && fs.existsSync(req.replayFile) ? 'replay' : r.agent;
  return { agent, ...(r.model ? { model: r.model } : {}) };
}

/** A unified diff of `changes` between `baseRef` (in `root`'s git) and the files in `workspace`. */
export async function changesetDiff(root: string, workspace: string, changes: AuditRequest['changes'], baseRef = 'HEAD'): Promise<string> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-diff-'));
  try {
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    for (const c of changes) {
      const show = await runGit(root, ['show', '--no-textconv', '--no-ext-diff', `${baseRef}:${c.path}`]);
      if (show.code === 0) {
        fs.mkdirSync(path.dirname(path.join(a, c.path)), { recursive: true });
        fs.writeFileSync(path.join(a, c.path), show.stdout);
      }
      const src = path.join(workspace, c.path);
      const st = fs.lstatSync(src, { throwIfNoEntry: false });
      if (st?.isFile()) {
        fs.mkdirSync(path.dirname(path.join(b, c.path)), { recursive: true });
        fs.copyFileSync(src, path.join(b, c.path));
      }
    }
    fs.mkdirSync(a, { recursive: true });
    fs.mkdirSync(b, { recursive: true });
    const r = await runGit(tmp, ['diff', '--no-index', '--no-color', '--no-ext-diff', '--no-textconv', 'a', 'b']);
    // `git diff --no-index a b` names files a/a/<path>, b/b/<path> (a/b/… for additions): make them repo-relative.
    return r.stdout
      .toString('utf8')
      .replace(/^(---|\+\+\+) (a|b)\/(a|b)\//gm, '$1 $2/')
      .replace(/^diff --git [ab]\/[ab]\/(.*) [ab]\/[ab]\//gm, 'diff --git a/$1 b/');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The Auditor's temp folder: its inputs read-only, its output folder writable by its container's user only. */
export interface AuditDirs {
  dir: string;
  planDir: string;
  inDir: string;
  outDir: string;
}

/** The Auditor's inputs on the host: plan.json, the changeset as a diff, the rules. */
export async function writeAuditInputs(req: AuditRequest, plan: Plan): Promise<AuditDirs> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-audit-'));
  const dirs: AuditDirs = { dir, planDir: path.join(dir, 'plan'), inDir: path.join(dir, 'in'), outDir: path.join(dir, 'out') };
  try {
    for (const d of [dirs.planDir, dirs.inDir, dirs.outDir]) fs.mkdirSync(d, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    containerOutputDir(dirs.outDir);
    fs.writeFileSync(path.join(dirs.planDir, 'plan.json'), JSON.stringify(plan, null, 2) + '\n', { mode: 0o644 });
    fs.writeFileSync(path.join(dirs.inDir, 'changeset.diff'), await changesetDiff(req.root, req.workspace, req.changes, req.baseRef), { mode: 0o644 });
    fs.writeFileSync(path.join(dirs.inDir, 'SSOT_RULES.md'), req.rules, { mode: 0o644 });
    return dirs;
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The Auditor's runtime launch: one AC holding its instructions, its own gateway and budget. */
function launchAuditAgent(req: AuditRequest, plan: Plan, model: string | undefined, onBudgetExceeded: () => void, log: Logger): Promise<WorkerLaunch> {
  const instructions = [
    `You are the Auditor of ticket ${plan.ticket_id} (${req.reason}). You may not change anything.`,
    `Read the changeset ${AUDIT_PATHS.diff}, the rules ${AUDIT_PATHS.rules} and the plan ${AUDIT_PATHS.plan}.`,
    `Decide whether the change violates the rules (PnL re-derived outside the engine, logic outside scope, SSOT edits).`,
    `Write ${AUDIT_PATHS.report}: {"ticket_id","verdict":"PASS"|"FAIL","violations":[{"file","line","rule","message"}],"summary","model","cost_usd"}.`,
  ].join(' ');
  return prepareWorkerLaunch({
    plan,
    config: req.config,
    role: 'auditor',
    acs: [{ id: `${plan.ticket_id}::AUDIT`, ticketId: plan.ticket_id, localId: 'AUDIT', title: instructions, status: 'OPEN', rawStatus: 'OPEN', source: { file: '', line: 0 } }],
    rules: req.rules,
    ...(req.keys ? { keys: req.keys } : {}),
    ...(plan.agent === 'replay' && req.replayFile ? { replayFile: req.replayFile } : {}),
    ...(req.runtimeFile ? { runtimeFile: req.runtimeFile } : {}),
    ...(model ? { model } : {}),
    ...(req.budgetUsd !== undefined ? { budgetUsd: req.budgetUsd } : {}),
    ...(req.onRecord ? { onRecord: req.onRecord } : {}),
    onBudgetExceeded,
    logger: log,
  });
}

/**
 * The Auditor's container: everything read-only but its report folder and its agent's output,
 * which count against the Worker's growth cap (SECURITY 4); held to the Worker's limits.
 */
export function auditJob(req: AuditRequest, plan: Plan, dirs: AuditDirs, launch: WorkerLaunch): ContainerJob {
  return {
    role: 'auditor',
    image: req.image ?? req.config.worker.image,
    cmd: launch.command,
    mounts: [
      { hostPath: req.workspace, containerPath: SANDBOX_PATHS.workspace, readOnly: true },
      { hostPath: dirs.planDir, containerPath: SANDBOX_PATHS.planDir, readOnly: true },
      { hostPath: dirs.inDir, containerPath: AUDIT_PATHS.dir, readOnly: true },
      { hostPath: dirs.outDir, containerPath: SANDBOX_PATHS.outDir, readOnly: false },
      ...launch.mounts,
    ],
    env: { FACTORY_PLAN: AUDIT_PATHS.plan, FACTORY_OUT: SANDBOX_PATHS.outDir, FACTORY_RESULT: `${SANDBOX_PATHS.outDir}/result.json`, FACTORY_RUN_ID: plan.run_id, ...launch.env },
    limits: jobLimits(req.config.worker),
    labels: { runId: plan.run_id, ticket: plan.ticket_id, repo: req.root },
    timeoutMs: plan.timeout_minutes * 60_000,
    cleanupPath: dirs.dir,
  };
}

/** The report as untrusted input; no report, an invalid one or a run over the cap is a FAIL verdict. */
function readVerdict(req: AuditRequest, plan: Plan, model: string | undefined, file: string, run: ContainerResult & { overCap: boolean }, costUsd: number): AuditReport {
  try {
    if (run.overCap) throw new Error('over the growth cap');
    const report = readAuditReport(file);
    if (report.ticket_id !== plan.ticket_id) throw new Error(`the report is about ${report.ticket_id}, not ${plan.ticket_id}`);
    // The gateway's meter is the cost, whatever the report claims.
    return { ...report, run_id: plan.run_id, cost_usd: costUsd };
  } catch (err) {
    const why = run.overCap
      ? `it wrote more than ${req.config.worker.workspaceMb} MiB into its output folders and was stopped`
      : fs.existsSync(file)
        ? errorMessage(err)
        : `no audit_report.json (container ${run.status}${run.exitCode !== null ? `, exit ${run.exitCode}` : ''})`;
    return { schema_version: 1, run_id: plan.run_id, ticket_id: plan.ticket_id, verdict: 'FAIL', violations: [], summary: `the Auditor gave no valid verdict: ${why}`, model: model ?? plan.agent, cost_usd: costUsd };
  }
}

/**
 * The Auditor (spec §3-3): a container in which everything is read-only — the tree, the changeset
 * as a diff, the rules and the plan — running the auditor agent through its own model gateway.
 * It may write only `/factory/out/audit_report.json`, which is read as untrusted input (a PASS
 * with error violations becomes FAIL). No report, or an invalid one, is a FAIL verdict.
 */
export async function runAuditor(
  req: AuditRequest,
  deps: { docker?: Docker; logger?: Logger; signal?: AbortSignal; /** Called with the Auditor container's id once it runs. */ onContainerStart?: (id: string) => void | Promise<void> } = {},
): Promise<AuditOutcome> {
  const log = deps.logger ?? nullLogger;
  const t0 = Date.now();
  const route = auditorRouteOf(req);
  const agent = route.agent;
  const plan: Plan = { ...req.plan, agent, ...(route.model ? { model: route.model } : {}) };
  let dirs: AuditDirs | undefined;
  let launch: WorkerLaunch | undefined;
  // The Auditor's gateway refusing a call for budget stops its container at once.
  const stop = new AbortController();
  let budgetHit = false;
  const signal = deps.signal ? AbortSignal.any([deps.signal, stop.signal]) : stop.signal;
  try {
    dirs = await writeAuditInputs(req, plan);
    launch = await launchAuditAgent(req, plan, route.model, () => {
      budgetHit = true;
      stop.abort();
    }, log);
    const run = await runJob(auditJob(req, plan, dirs, launch), { ...(deps.docker ? { docker: deps.docker } : {}), logger: log, signal, ...(deps.onContainerStart ? { onStart: deps.onContainerStart } : {}) });
    const agentOut = await launch.finish();
    const costUsd = agentOut.gateway.requests > 0 ? agentOut.gateway.costUsd : (agentOut.report?.costUsd ?? 0);
    const report = readVerdict(req, plan, route.model, path.join(dirs.outDir, 'audit_report.json'), run, costUsd);
    return { report, costUsd, durationMs: Date.now() - t0, agent, ...(route.model ? { model: route.model } : {}), records: agentOut.records, budgetHit: budgetHit || agentOut.gateway.budgetExceeded };
  } finally {
    await launch?.dispose();
    if (dirs) fs.rmSync(dirs.dir, { recursive: true, force: true });
  }
}
