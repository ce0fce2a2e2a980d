/**
 * Spec §8-3 steps 2–3, the baseline: the Gate and DocOps on HEAD before the first cycle of a run,
 * so a failure HEAD already had is never blamed on the Worker (verdict.ts `preExisting`) and a
 * red HEAD does not start a paid cycle unless the user accepts it (`--accept-red-baseline`).
 * HEAD is exported as DO exports it (a staging copy: the commit's tracked files, nothing of the
 * work tree); the Gate's PASS is cached under HEAD's git tree, so a second run on it is free.
 */
import { createHash } from 'node:crypto';
import { formatRunId } from '../evidence/run-id';
import { ContainerRunner } from '../gate/container-runner';
import { GateCache } from '../gate/gate-cache';
import type { GateReport } from '../gate/gate-model';
import { HostRunner } from '../gate/host-runner';
import { runGate } from '../gate/run-gate';
import { docOpsWorkspace } from '../guards/docops-workspace';
import type { DocOpsReport } from '../guards/guard-model';
import { jobLimits } from '../sandbox/job';
import { createStagingCopy, type StagingCopy } from '../sandbox/staging';
import { FactoryError } from '../util/errors';
import type { CycleEnv } from './cycle-context';
import type { BaselineReport } from './cycle-types';
import { gitQuery } from './git-ops';

/** The git tree of `root`'s folder at `commit` (the whole repository's tree when `root` is its top). */
async function treeOf(root: string, commit: string, signal?: AbortSignal): Promise<string> {
  const tree = await gitQuery(root, ['rev-parse', '--verify', '-q', `${commit}:./`], signal);
  if (!tree) throw new FactoryError(`cannot read the tree of ${commit.slice(0, 12)} in ${root} (git rev-parse ${commit.slice(0, 12)}:./ failed)`, 'git-failed');
  return tree;
}

/** The Gate over the exported HEAD: read-only, one container per step (like CHECK's), cached by tree. */
async function gateOnHead(env: CycleEnv, staging: StagingCopy, tree: string, runId: string): Promise<GateReport> {
  const { config, opts } = env;
  const runner =
    config.gate.runIn === 'host'
      ? new HostRunner({ cwd: staging.workspace })
      : new ContainerRunner({ treeDir: staging.workspace, image: opts.image ?? config.worker.image, limits: jobLimits(config.worker), user: `${staging.uid}:${staging.gid}`, readOnly: true, runId, ticket: 'baseline', repo: env.root, cleanupPath: staging.dir, docker: env.docker, logger: env.log });
  // Keyed by HEAD's git tree: the same tree is the same baseline, whichever commit holds it.
  const treeHash = createHash('sha256').update(`git-tree ${tree}\n`).digest('hex');
  return runGate({ config, treeDir: staging.workspace, treeHash, runner, cache: new GateCache(env.paths.gateCache), runId, logger: env.log, ...(env.signal ? { signal: env.signal } : {}) });
}

/** What failed: the Gate's red steps (with their failed-test count when parsed) and DocOps' red guards. */
export function baselineFailures(gate: GateReport, docops: DocOpsReport): BaselineReport['failing'] {
  const failing: BaselineReport['failing'] = [];
  for (const s of [...gate.guards, ...gate.stages]) if (s.status !== 'PASS' && s.status !== 'SKIPPED') failing.push({ kind: 'gate', name: s.name, ...(s.counts ? { failed: s.counts.failed + s.counts.errors } : {}) });
  for (const g of docops.guards) if (g.status === 'FAIL' || g.status === 'ERROR' || g.status === 'TIMEOUT') failing.push({ kind: 'docops', name: g.name });
  if (docops.status === 'FAIL' && !failing.some((f) => f.kind === 'docops')) failing.push({ kind: 'docops', name: 'DocOps' });
  return failing;
}

/**
 * The Gate and DocOps on `head` (a full commit id), side by side over one export of it.
 * @throws FactoryError `interrupted` when the signal fires; what the export or the engine throw.
 */
export async function checkBaseline(env: CycleEnv, head: string): Promise<BaselineReport> {
  const t0 = Date.now();
  const { root, config, signal } = env;
  const runId = formatRunId(env.now(), 'baseline', head);
  const sig = signal ? { signal } : {};
  const [tree, staging] = await Promise.all([treeOf(root, head, signal), createStagingCopy({ root, runId, modify: [], commit: head, dirtyChecked: true, workspaceMb: config.worker.workspaceMb, memoryMb: config.worker.memoryMb, ...sig })]);
  try {
    const [gate, docops] = await Promise.allSettled([gateOnHead(env, staging, tree, runId), docOpsWorkspace(staging.workspace, config, { logger: env.log, ...sig })]);
    if (signal?.aborted) throw new FactoryError('interrupted during the baseline (Gate and DocOps on HEAD)', 'interrupted');
    if (gate.status === 'rejected') throw gate.reason;
    if (docops.status === 'rejected') throw docops.reason;
    const failing = baselineFailures(gate.value, docops.value);
    return { commit: head, tree, status: failing.length ? 'red' : 'green', failing, accepted: false, cached: gate.value.cache?.hit === true, durationMs: Date.now() - t0 };
  } finally {
    void staging.disposeInBackground();
  }
}

/** "fast (gate, 2 failed), SSOT Docs (docops)". */
export function describeFailing(failing: BaselineReport['failing']): string {
  return failing.map((f) => `${f.name} (${f.kind}${f.failed !== undefined ? `, ${f.failed} failed` : ''})`).join(', ');
}

/** The refusal of a red baseline. */
export function baselineRedError(r: BaselineReport): FactoryError {
  return new FactoryError(`baseline red: ${describeFailing(r.failing)} failing on HEAD ${r.commit.slice(0, 7)} before any change; fix HEAD or pass --accept-red-baseline`, 'baseline-red');
}

/** One line for people: "baseline green on HEAD abc1234 (cached, 0.1 s)". */
export function baselineLine(r: BaselineReport): string {
  const how = `${r.cached ? 'cached, ' : ''}${(r.durationMs / 1000).toFixed(1)} s`;
  if (r.status === 'green') return `baseline green on HEAD ${r.commit.slice(0, 7)} (${how})`;
  return `baseline red on HEAD ${r.commit.slice(0, 7)}: ${describeFailing(r.failing)}${r.accepted ? ' — accepted (--accept-red-baseline): these failures are not the Worker\'s' : ''} (${how})`;
}

/**
 * The baseline the cycle starts from (spec §8-3), announced as a `baseline` event: undefined when
 * `opts.baseline` is `skip` (a later cycle of the same run). Red and not accepted: refused.
 * @throws FactoryError `baseline-red` (exit 1).
 */
export async function startBaseline(env: CycleEnv, head: string): Promise<BaselineReport | undefined> {
  if (env.opts.baseline === 'skip') return undefined;
  const report = await checkBaseline(env, head);
  if (report.status === 'red') report.accepted = env.opts.acceptRedBaseline === true;
  env.lap('baseline (Gate and DocOps on HEAD)');
  env.emit({ type: 'baseline', report });
  env.log.info(baselineLine(report));
  if (report.status === 'red' && !report.accepted) throw baselineRedError(report);
  return report;
}
