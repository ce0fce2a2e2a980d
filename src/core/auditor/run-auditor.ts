import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Docker from 'dockerode';
import type { Change } from '../changeset/diff';
import type { FactoryConfig } from '../config/schema';
import { readAuditReport, type AuditReport } from '../contracts/audit-report';
import type { Plan } from '../contracts/plan';
import { prepareWorkerLaunch, type WorkerLaunch } from '../cycle/worker-launch';
import type { ProviderKeys } from '../gateway/gateway';
import { DEFAULT_LIMITS, SANDBOX_PATHS } from '../sandbox/run-sandbox';
import { runContainer, type ContainerMount } from '../sandbox/container';
import { watchWorkspace } from '../sandbox/workspace-cap';
import { execCapture, workerIdentity } from '../sandbox/staging';
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
}

export interface AuditOutcome {
  report: AuditReport;
  costUsd: number;
  durationMs: number;
}

/** A unified diff of `changes` between `baseRef` (in `root`'s git) and the files in `workspace`. */
export async function changesetDiff(root: string, workspace: string, changes: AuditRequest['changes'], baseRef = 'HEAD'): Promise<string> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-diff-'));
  try {
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    for (const c of changes) {
      const show = await execCapture('git', ['-c', 'core.hooksPath=/dev/null', '-C', root, 'show', `${baseRef}:${c.path}`]);
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
    const r = await execCapture('git', ['diff', '--no-index', '--no-color', '--no-ext-diff', 'a', 'b'], { cwd: tmp });
    // `git diff --no-index a b` names files a/a/<path>, b/b/<path> (a/b/… for additions): make them repo-relative.
    return r.stdout
      .toString('utf8')
      .replace(/^(---|\+\+\+) (a|b)\/(a|b)\//gm, '$1 $2/')
      .replace(/^diff --git [ab]\/[ab]\/(.*) [ab]\/[ab]\//gm, 'diff --git a/$1 b/');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
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
  const agent = req.replayFile && fs.existsSync(req.replayFile) ? 'replay' : req.config.auditor.agent;
  const plan: Plan = { ...req.plan, agent };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-audit-'));
  const planDir = path.join(dir, 'plan');
  const inDir = path.join(dir, 'in');
  const outDir = path.join(dir, 'out');
  let launch: WorkerLaunch | undefined;
  const model = req.config.auditor.model ?? agent;
  try {
    for (const d of [planDir, inDir, outDir]) fs.mkdirSync(d, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(outDir, 0o777);
    fs.writeFileSync(path.join(planDir, 'plan.json'), JSON.stringify(plan, null, 2) + '\n', { mode: 0o644 });
    fs.writeFileSync(path.join(inDir, 'changeset.diff'), await changesetDiff(req.root, req.workspace, req.changes, req.baseRef), { mode: 0o644 });
    fs.writeFileSync(path.join(inDir, 'SSOT_RULES.md'), req.rules, { mode: 0o644 });
    const instructions = [
      `You are the Auditor of ticket ${plan.ticket_id} (${req.reason}). You may not change anything.`,
      `Read the changeset ${AUDIT_PATHS.diff}, the rules ${AUDIT_PATHS.rules} and the plan ${AUDIT_PATHS.plan}.`,
      `Decide whether the change violates the rules (PnL re-derived outside the engine, logic outside scope, SSOT edits).`,
      `Write ${AUDIT_PATHS.report}: {"ticket_id","verdict":"PASS"|"FAIL","violations":[{"file","line","rule","message"}],"summary","model","cost_usd"}.`,
    ].join(' ');
    launch = await prepareWorkerLaunch({
      plan,
      config: req.config,
      acs: [{ id: `${plan.ticket_id}::AUDIT`, ticketId: plan.ticket_id, localId: 'AUDIT', title: instructions, status: 'OPEN', rawStatus: 'OPEN', source: { file: '', line: 0 } }],
      rules: req.rules,
      ...(req.keys ? { keys: req.keys } : {}),
      ...(agent === 'replay' && req.replayFile ? { replayFile: req.replayFile } : {}),
      ...(req.runtimeFile ? { runtimeFile: req.runtimeFile } : {}),
      logger: log,
    });
    const { uid, gid } = workerIdentity();
    const mounts: ContainerMount[] = [
      { hostPath: req.workspace, containerPath: SANDBOX_PATHS.workspace, readOnly: true },
      { hostPath: planDir, containerPath: SANDBOX_PATHS.planDir, readOnly: true },
      { hostPath: inDir, containerPath: AUDIT_PATHS.dir, readOnly: true },
      { hostPath: outDir, containerPath: SANDBOX_PATHS.outDir, readOnly: false },
      ...launch.mounts,
    ];
    // The Auditor reads everything read-only but writes its report and its agent's logs to host
    // folders: those count against the same growth cap as a Worker's (SECURITY 4).
    const stop = new AbortController();
    const signal = deps.signal ? AbortSignal.any([deps.signal, stop.signal]) : stop.signal;
    const writable = mounts.filter((m) => !m.readOnly).map((m) => m.hostPath);
    const growth = await watchWorkspace(writable[0], { baseBytes: 0, growthMb: req.config.worker.workspaceMb, extraDirs: writable.slice(1), onOver: () => stop.abort() });
    const run = await runContainer(
      {
        image: req.image ?? req.config.worker.image,
        cmd: launch.command,
        env: { HOME: SANDBOX_PATHS.home, FACTORY_PLAN: AUDIT_PATHS.plan, FACTORY_OUT: SANDBOX_PATHS.outDir, FACTORY_RESULT: `${SANDBOX_PATHS.outDir}/result.json`, FACTORY_RUN_ID: plan.run_id, PYTHONDONTWRITEBYTECODE: '1', ...launch.env },
        user: `${uid}:${gid}`,
        workdir: SANDBOX_PATHS.workspace,
        mounts,
        tmpfs: ['/tmp', SANDBOX_PATHS.home],
        limits: { ...DEFAULT_LIMITS, memoryMb: req.config.worker.memoryMb, cpus: req.config.worker.cpus, pidsLimit: req.config.worker.pidsLimit, tmpfsMb: req.config.worker.tmpfsMb },
        labels: { runId: plan.run_id, ticket: plan.ticket_id, role: 'auditor' },
        timeoutMs: plan.timeout_minutes * 60_000,
        cleanupPath: dir,
      },
      { ...(deps.docker ? { docker: deps.docker } : {}), logger: log, signal, ...(deps.onContainerStart ? { onStart: deps.onContainerStart } : {}) },
    ).finally(() => growth.stop());
    const overCap = await growth.exceeded(new Map());
    const agentOut = await launch.finish();
    const costUsd = agentOut.gateway.requests > 0 ? agentOut.gateway.costUsd : (agentOut.report?.costUsd ?? 0);
    const file = path.join(outDir, 'audit_report.json');
    let report: AuditReport;
    try {
      if (overCap) throw new Error('over the growth cap');
      report = readAuditReport(file);
      if (report.ticket_id !== plan.ticket_id) throw new Error(`the report is about ${report.ticket_id}, not ${plan.ticket_id}`);
      // The gateway's meter is the cost, whatever the report claims.
      report = { ...report, run_id: plan.run_id, cost_usd: costUsd };
    } catch (err) {
      const why = overCap
        ? `it wrote more than ${req.config.worker.workspaceMb} MiB into its output folders and was stopped`
        : fs.existsSync(file)
          ? errorMessage(err)
          : `no audit_report.json (container ${run.status}${run.exitCode !== null ? `, exit ${run.exitCode}` : ''})`;
      report = { schema_version: 1, run_id: plan.run_id, ticket_id: plan.ticket_id, verdict: 'FAIL', violations: [], summary: `the Auditor gave no valid verdict: ${why}`, model, cost_usd: costUsd };
    }
    return { report, costUsd, durationMs: Date.now() - t0 };
  } finally {
    await launch?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
