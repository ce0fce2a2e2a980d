import * as fs from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import type Docker from 'dockerode';
import { applyChangeset, type Conflict } from '../changeset/apply';
import { diffSnapshots, type Change, type ChangeKind } from '../changeset/diff';
import { checkScope, compileScope, type Violation } from '../changeset/scope';
import { snapshotBytes, type EntryType } from '../changeset/snapshot';
import { afterSnapshot, baseSnapshot, writeBaseEntries } from './staging-snapshots';
import { watchWorkspace } from './workspace-cap';
import type { Plan } from '../contracts/plan';
import { readResultJson, type WorkerResult } from '../contracts/result';
import { UntrustedJsonError } from '../contracts/untrusted-json';
import { connectDocker } from '../docker/connect';
import { appendHistory } from '../history/history';
import { acquireRepoLock, type RepoLock } from '../lock/repo-lock';
import { checkRepoPath } from '../paths/validate';
import { atomicWrite } from '../util/atomic-write';
import { errorMessage } from '../util/errors';
import { nullLogger, type Logger, type ProgressSink } from '../util/log';
import { ownerTag, reapOrphans, runContainer, type ContainerLimits, type ContainerMount, type ContainerResult, type ReapedContainer } from './container';
import { createStagingCopy, globPrefixes, ignoredPaths, type StagingCopy } from './staging';

/** Fixed paths inside the Worker container (documented for agent adapters). */
export const SANDBOX_PATHS = {
  workspace: '/workspace',
  planDir: '/factory/plan',
  plan: '/factory/plan/plan.json',
  outDir: '/factory/out',
  result: '/factory/out/result.json',
  home: '/home/worker',
} as const;

export const DEFAULT_WORKER_IMAGE = 'agentic-factory/worker-base:bookworm';
export const DEFAULT_LIMITS: ContainerLimits = { memoryMb: 2048, cpus: 1, pidsLimit: 256, tmpfsMb: 256 };
/** Above this many read-only overlay mounts, the changeset check alone guards the rest. */
const MAX_OVERLAY_MOUNTS = 200;

export interface SandboxOptions {
  /** Host repository (a git checkout); its HEAD is exported. */
  root: string;
  plan: Plan;
  /** argv run as the Worker inside the container (no shell unless you put one there). */
  command: string[];
  image?: string;
  /** Time cap; default `plan.timeout_minutes`. */
  timeoutMs?: number;
  /** Apply a PASSing changeset to the host (under the repo lock). Without it the host is never written. */
  apply?: boolean;
  limits?: Partial<ContainerLimits>;
  /** Growth cap of the workspace, MiB (the Worker is stopped when it writes more). Default 1024. */
  workspaceMb?: number;
  /** Extra environment for the Worker (never secrets: they would show in `docker inspect`). */
  env?: Record<string, string>;
  /** Extra mounts (e.g. the model gateway's socket folder, read-only). */
  extraMounts?: ContainerMount[];
  /** Demultiplexed Worker output is appended here (capped). */
  logFile?: string;
  logCapBytes?: number;
  /**
   * history.jsonl to record this cycle in (and an earlier cycle whose Controller died mid-way, as
   * ABORTED; a `<history>.inflight.json` marker lives beside it during the run). Nothing is
   * recorded when absent.
   */
  historyFile?: string;
  /** Stale time of the repo lock (ms). */
  lockStaleMs?: number;
}

export interface SandboxDeps {
  docker?: Docker;
  logger?: Logger;
  signal?: AbortSignal;
  progress?: ProgressSink;
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
  /** Called with the container id once the Worker started. */
  onStart?: (containerId: string) => void | Promise<void>;
}

export type SandboxStatus = 'PASS' | 'FAIL' | 'TIMEOUT' | 'ERROR';

export interface SandboxReport {
  status: SandboxStatus;
  runId: string;
  ticketId: string;
  baseCommit: string | null;
  exitCode: number | null;
  changeset: { path: string; kind: ChangeKind }[];
  /** New files the host's ignore rules ignore (caches, build output): never applied, not violations. */
  ignored: { count: number; sample: string[] };
  violations: Violation[];
  applied: boolean;
  conflicts: Conflict[];
  /** The Worker's result.json after validation (null when absent or rejected). */
  result: (WorkerResult & { forced: boolean }) | null;
  resultError: { rule: string; message: string } | null;
  /** Why the status is not PASS, one line each. */
  reasons: string[];
  container: Pick<ContainerResult, 'status' | 'containerId' | 'durationMs' | 'oomKilled' | 'warnings' | 'logTruncated'> | null;
  /** Orphans removed at start-up (any repository's; this repository's interrupted cycle is recorded ABORTED from its in-flight marker). */
  reaped: ReapedContainer[];
  durationMs: number;
}

/** Path → type, of a whole tree (a Snapshot) or of the parts of it some globs can name (`overlayListing`). */
export type TreeListing = ReadonlyMap<string, { type: EntryType }>;

/**
 * The entries of the staging copy that `globs` can name, without walking the rest: each glob's
 * literal folder (or file) is looked up one path part at a time with lstat — a symlink is never
 * followed, not even as a middle part — and a folder found is listed below it. What
 * `overlayTargets` needs before the Worker starts, while the full snapshot is still being taken.
 */
export function overlayListing(ws: string, globs: readonly string[]): TreeListing {
  const out = new Map<string, { type: EntryType }>();
  const typeOf = (st: fs.Stats): EntryType => (st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other');
  // How deep below its literal folder a glob can reach: as many parts as it has there, unless a
  // globstar or a brace (which may hold a slash) makes it unbounded. `.env.*` needs the top
  // folder only, not a walk of the whole tree.
  const depthOf = (glob: string, prefix: string): number => {
    const rest = glob.replace(/^\.\//, '').replace(/\/+$/, '').slice(prefix ? prefix.length + 1 : 0);
    return /\*\*|\{/.test(rest) ? Infinity : rest.split('/').length;
  };
  const depth = new Map<string, number>();
  for (const g of globs) {
    const prefix = globPrefixes([g])[0] ?? '';
    depth.set(prefix, Math.max(depth.get(prefix) ?? 0, depthOf(g, prefix)));
  }
  const listed = new Map<string, number>();
  const list = (rel: string, maxDepth: number) => {
    const stack: Array<[string, number]> = [[rel, maxDepth]];
    while (stack.length) {
      const [dir, left] = stack.pop()!;
      if (left <= 0 || (listed.get(dir) ?? 0) >= left) continue; // listed as deep already
      listed.set(dir, left);
      for (const name of fs.readdirSync(dir ? path.join(ws, dir) : ws)) {
        const r = dir ? `${dir}/${name}` : name;
        let type = out.get(r)?.type;
        if (!type) {
          const st = fs.lstatSync(path.join(ws, r), { throwIfNoEntry: false });
          if (!st) continue;
          type = typeOf(st);
          out.set(r, { type });
        }
        if (type === 'dir') stack.push([r, left - 1]);
      }
    }
  };
  for (const [prefix, maxDepth] of depth) {
    if (prefix === '') {
      list('', maxDepth);
      continue;
    }
    let rel = '';
    let st: fs.Stats | undefined;
    for (const part of prefix.split('/')) {
      if (rel && !st?.isDirectory()) {
        st = undefined; // a file, a symlink or nothing in the middle: the path names nothing here
        break;
      }
      rel = rel ? `${rel}/${part}` : part;
      st = fs.lstatSync(path.join(ws, rel), { throwIfNoEntry: false });
      if (!st) break;
    }
    if (!st) continue;
    out.set(prefix, { type: typeOf(st) });
    if (st.isDirectory()) list(prefix, maxDepth);
  }
  return out;
}

/**
 * Files (or whole folders for `dir/**` globs) of the staging copy to overlay read-only. `before`
 * is the snapshot of the copy, or `overlayListing` of the same globs.
 */
export function overlayTargets(before: TreeListing, globs: readonly string[]): string[] {
  const dirs = new Set<string>();
  const fileGlobs: string[] = [];
  for (const g of globs) {
    const m = /^(.+)\/\*\*$/.exec(g);
    if (m && !/[*?[\]{}()!]/.test(m[1]) && before.get(m[1])?.type === 'dir') dirs.add(m[1]);
    else fileGlobs.push(g);
  }
  const inDir = (p: string) => [...dirs].some((d) => p.startsWith(d + '/'));
  const files = new Set<string>();
  const take = (p: string) => {
    if (before.get(p)?.type === 'file' && !inDir(p) && !checkRepoPath(p, { protect: false })) files.add(p);
  };
  // Literal paths are looked up; a wildcard glob is matched only against entries under its
  // literal folder (a 10,000-file tree is not run through picomatch for `engine/fees.py`).
  const wild: string[] = [];
  for (const g of fileGlobs) {
    const prefix = globPrefixes([g])[0] ?? '';
    if (prefix === g.replace(/^\.\//, '').replace(/\/+$/, '')) take(prefix);
    else wild.push(g);
  }
  if (wild.length) {
    const prefixes = globPrefixes(wild);
    const match = picomatch(wild, { dot: true, nonegate: true, noextglob: true });
    const under = (p: string) => prefixes.some((d) => d === '' || p === d || p.startsWith(d + '/'));
    for (const p of before.keys()) if (under(p) && match(p)) take(p);
  }
  return [...dirs, ...files].sort();
}

/**
 * One Worker run, start to finish (DESIGN §5): reap orphans → take the repo lock → export the base
 * commit to a staging copy (refusing when scope.modify is dirty) → snapshot → run the command in
 * the hardened container with plan.json read-only at /factory/plan/plan.json and readonly/
 * forbidden paths overlaid read-only → snapshot → changeset → scope check → result.json check →
 * (with `apply` and a PASS) apply to the host. The staging copy is always deleted.
 */
export async function runSandbox(opts: SandboxOptions, deps: SandboxDeps = {}): Promise<SandboxReport> {
  const logger = deps.logger ?? nullLogger;
  const progress = deps.progress ?? (() => undefined);
  const t0 = Date.now();
  const plan = opts.plan;
  const report: SandboxReport = {
    status: 'ERROR',
    runId: plan.run_id,
    ticketId: plan.ticket_id,
    baseCommit: null,
    exitCode: null,
    changeset: [],
    ignored: { count: 0, sample: [] },
    violations: [],
    applied: false,
    conflicts: [],
    result: null,
    resultError: null,
    reasons: [],
    container: null,
    reaped: [],
    durationMs: 0,
  };
  const steps = opts.apply ? 6 : 5;
  const docker = deps.docker ?? (await connectDocker({ signal: deps.signal })).docker;

  progress({ step: 1, maxStep: steps, message: 'reaping orphaned containers' });
  report.reaped = await reapOrphans({ docker, logger });

  let lock: RepoLock | undefined;
  let staging: StagingCopy | undefined;
  let markerWritten = false;
  try {
    lock = await acquireRepoLock(opts.root, { staleMs: opts.lockStaleMs, logger });
    if (opts.historyFile) {
      await beginRecord(opts.historyFile, plan);
      markerWritten = true;
    }
    progress({ step: 2, maxStep: steps, message: 'exporting the staging copy' });
    staging = await createStagingCopy({ root: opts.root, runId: plan.run_id, modify: plan.scope.modify, signal: deps.signal, workspaceMb: opts.workspaceMb ?? 1024, memoryMb: opts.limits?.memoryMb ?? DEFAULT_LIMITS.memoryMb });
    report.baseCommit = staging.baseCommit;
    fs.writeFileSync(path.join(staging.control, 'plan.json'), JSON.stringify(plan, null, 2) + '\n', { mode: 0o644 });
    const before = await baseSnapshot(staging, plan.scope.modify);
    writeBaseEntries(staging, before);

    const overlays = overlayTargets(before, [...plan.scope.readonly, ...plan.scope.forbidden]);
    if (overlays.length > MAX_OVERLAY_MOUNTS) logger.warn(`${overlays.length} read-only paths; overlaying the first ${MAX_OVERLAY_MOUNTS} (the changeset check covers all)`);
    const ws = staging.workspace;
    const mounts: ContainerMount[] = [
      { hostPath: ws, containerPath: SANDBOX_PATHS.workspace, readOnly: false },
      ...overlays.slice(0, MAX_OVERLAY_MOUNTS).map((p) => ({ hostPath: path.join(ws, p), containerPath: `${SANDBOX_PATHS.workspace}/${p}`, readOnly: true })),
      { hostPath: staging.control, containerPath: SANDBOX_PATHS.planDir, readOnly: true },
      { hostPath: staging.output, containerPath: SANDBOX_PATHS.outDir, readOnly: false },
      ...(opts.extraMounts ?? []),
    ];

    const inner = new AbortController();
    const onOuterAbort = () => inner.abort();
    deps.signal?.addEventListener('abort', onOuterAbort, { once: true });
    // Every host folder the Worker may write counts against the cap, not only the workspace.
    const extraDirs = mounts.filter((m) => !m.readOnly && m.hostPath !== ws).map((m) => m.hostPath);
    const growth = await watchWorkspace(ws, { baseBytes: snapshotBytes(before), growthMb: opts.workspaceMb ?? 1024, extraDirs, onOver: () => inner.abort() });

    progress({ step: 3, maxStep: steps, message: `running the Worker (${opts.command[0]})` });
    let run: ContainerResult;
    try {
      run = await runContainer(
        {
          image: opts.image ?? DEFAULT_WORKER_IMAGE,
          cmd: opts.command,
          // Python caches go to /tmp, so running the tests does not litter the changeset.
          env: { HOME: SANDBOX_PATHS.home, PYTHONPYCACHEPREFIX: '/tmp/pycache', FACTORY_PLAN: SANDBOX_PATHS.plan, FACTORY_OUT: SANDBOX_PATHS.outDir, FACTORY_RESULT: SANDBOX_PATHS.result, FACTORY_RUN_ID: plan.run_id, ...opts.env },
          user: `${staging.uid}:${staging.gid}`,
          workdir: SANDBOX_PATHS.workspace,
          mounts,
          tmpfs: ['/tmp', SANDBOX_PATHS.home],
          // One file can never exceed the workspace cap (kernel-enforced); the watchdog covers many files.
          limits: { ...DEFAULT_LIMITS, fileSizeMb: opts.workspaceMb ?? 1024, ...opts.limits },
          labels: { runId: plan.run_id, ticket: plan.ticket_id, role: 'worker', repo: fs.realpathSync(opts.root) },
          timeoutMs: opts.timeoutMs ?? plan.timeout_minutes * 60_000,
          cleanupPath: staging.dir,
          ...(opts.logFile ? { logFile: opts.logFile } : {}),
          ...(opts.logCapBytes ? { logCapBytes: opts.logCapBytes } : {}),
        },
        { docker, logger, signal: inner.signal, ...(deps.onOutput ? { onOutput: deps.onOutput } : {}), ...(deps.onStart ? { onStart: deps.onStart } : {}) },
      );
    } finally {
      growth.stop();
      deps.signal?.removeEventListener('abort', onOuterAbort);
    }
    report.exitCode = run.exitCode;
    report.container = { status: run.status, containerId: run.containerId, durationMs: run.durationMs, oomKilled: run.oomKilled, warnings: run.warnings, logTruncated: run.logTruncated };

    progress({ step: 4, maxStep: steps, message: 'checking the changeset' });
    try {
      const after = await afterSnapshot(staging, before, deps.signal);
      const { changes, ignored } = await dropIgnored(path.resolve(opts.root), diffSnapshots(before, after), plan.scope, deps.signal);
      report.ignored = { count: ignored.length, sample: ignored.slice(0, 20) };
      report.changeset = changes.map((c) => ({ path: c.path, kind: c.kind }));
      report.violations = checkScope(changes, plan.scope);
      if (run.status !== 'error') readResult(staging, report);
      decide(report, run, await growth.exceeded(after), deps.signal?.aborted === true);
      if (report.status === 'PASS' && opts.apply) {
        progress({ step: 5, maxStep: steps, message: 'applying the changeset to the host' });
        if (lock.compromised) throw new Error('the repo lock was lost during the run; not applying');
        const applied = await applyChangeset({ hostRoot: path.resolve(opts.root), stagingRoot: ws, changes, base: before });
        report.applied = applied.applied;
        report.conflicts = applied.conflicts;
        if (!applied.applied) {
          report.status = 'FAIL';
          report.reasons.push(`conflict: the host changed under the cycle: ${applied.conflicts.map((c) => `${c.path} (${c.reason})`).join(', ')}`);
        }
      }
    } catch (err) {
      report.status = report.status === 'TIMEOUT' ? 'TIMEOUT' : 'FAIL';
      report.reasons.push(`the staging copy could not be checked: ${errorMessage(err)}`);
    }
  } catch (err) {
    report.status = 'ERROR';
    report.reasons.push(errorMessage(err));
    if (!(err instanceof Error && err.name === 'FactoryError')) logger.error(err instanceof Error ? err : String(err));
  } finally {
    staging?.dispose();
    await lock?.release();
    report.durationMs = Date.now() - t0;
  }
  if (opts.historyFile && report.baseCommit) {
    await appendHistory(opts.historyFile, { runId: report.runId, ticketId: report.ticketId, status: report.status === 'ERROR' ? 'ABORTED' : report.status, endedAt: new Date().toISOString(), costUsd: report.result?.cost_estimate_usd ?? 0, agent: plan.agent, reasons: report.reasons, applied: report.applied });
  }
  // Only our own marker: after a lock refusal the marker is the other Controller's.
  if (opts.historyFile && markerWritten) fs.rmSync(inflightFile(opts.historyFile), { force: true });
  progress({ step: steps, maxStep: steps, message: `done: ${report.status}` });
  return report;
}

/** Marker of the cycle in flight, next to the history it will be recorded in. */
export function inflightFile(historyFile: string): string {
  return `${historyFile}.inflight.json`;
}

/**
 * Under the repo lock: a marker left by an earlier cycle means its Controller died mid-cycle
 * (SECURITY 7) — record it as ABORTED — then mark this cycle as in flight. This does not depend on
 * who reaped the orphaned container (any Controller on the engine may have).
 */
async function beginRecord(historyFile: string, plan: Plan): Promise<void> {
  const marker = inflightFile(historyFile);
  let previous: { runId?: unknown; ticketId?: unknown } | undefined;
  try {
    previous = JSON.parse(fs.readFileSync(marker, 'utf8')) as { runId?: unknown; ticketId?: unknown };
  } catch {
    previous = undefined; // no marker (or an unreadable one: nothing reliable to record)
  }
  if (previous && typeof previous.runId === 'string' && previous.runId !== plan.run_id) {
    await appendHistory(historyFile, { runId: previous.runId, ticketId: typeof previous.ticketId === 'string' ? previous.ticketId : '', status: 'ABORTED', endedAt: new Date().toISOString(), costUsd: 0, reason: 'the Controller stopped mid-cycle' });
  }
  fs.mkdirSync(path.dirname(marker), { recursive: true });
  await atomicWrite(marker, JSON.stringify({ runId: plan.run_id, ticketId: plan.ticket_id, owner: ownerTag(), startedAt: new Date().toISOString() }) + '\n');
}

/**
 * Split off new files the HOST repository ignores (caches, build output: never applied, not
 * violations). Unsafe paths and forbidden ones (a Worker writing `.env`) are never dropped: they
 * stay in the changeset to be reported as violations. Returns the kept changes and the dropped paths.
 */
export async function dropIgnored(root: string, all: readonly Change[], scope: Plan['scope'], signal?: AbortSignal): Promise<{ changes: Change[]; ignored: string[] }> {
  const forbidden = compileScope(scope).forbidden;
  const candidates = all.filter((c) => c.kind === 'added' && !checkRepoPath(c.path) && !forbidden(c.path)).map((c) => c.path);
  const ignored = await ignoredPaths(root, candidates, signal);
  return { changes: all.filter((c) => !(c.kind === 'added' && ignored.has(c.path))), ignored: [...ignored].sort() };
}

function readResult(staging: StagingCopy, report: SandboxReport): void {
  const file = path.join(staging.output, 'result.json');
  try {
    fs.lstatSync(file);
  } catch {
    return; // a plain command writes no result.json; the Controller's own checks decide
  }
  try {
    report.result = readResultJson(file);
  } catch (err) {
    const rule = err instanceof UntrustedJsonError ? err.rule : 'unreadable';
    report.resultError = { rule, message: errorMessage(err) };
  }
}

/** The cycle's verdict from what the Controller saw itself; the Worker's claims can only lower it. */
function decide(report: SandboxReport, run: ContainerResult, overCap: boolean, aborted: boolean): void {
  const reasons = report.reasons;
  if (run.status === 'error') {
    report.status = 'ERROR';
    reasons.push(run.error ?? 'the container failed');
    return;
  }
  if (run.status === 'timeout') {
    report.status = 'TIMEOUT';
    reasons.push('the Worker reached the time cap and was killed');
  } else if (overCap) {
    reasons.push('the Worker wrote past the workspace size cap and was stopped');
  } else if (run.status === 'killed') {
    reasons.push(aborted ? 'interrupted by the Controller' : 'the Worker was stopped');
  }
  if (run.oomKilled) reasons.push('the Worker ran out of memory (OOM-killed)');
  if (run.status === 'exited' && run.exitCode !== 0) reasons.push(`the Worker exited with code ${run.exitCode}`);
  if (report.violations.length) reasons.push(`${report.violations.length} change(s) outside the plan's scope: ${report.violations.map((v) => `${JSON.stringify(v.path)} (${v.rule})`).join(', ')}`);
  if (report.resultError) reasons.push(`result.json rejected: ${report.resultError.message}`);
  if (report.result && report.result.status !== 'PASS') {
    reasons.push(report.result.forced ? 'result.json claims PASS while one of its gate results is FAIL' : `the Worker reported ${report.result.status}`);
  }
  if (report.status !== 'TIMEOUT') report.status = reasons.length ? (run.status === 'killed' && aborted && !overCap ? 'ERROR' : 'FAIL') : 'PASS';
}
