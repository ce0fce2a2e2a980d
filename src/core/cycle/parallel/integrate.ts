/**
 * The merge queue's integration (issue 18, item 3): a PASSed changeset is applied onto the
 * *current* HEAD, not the HEAD the cycle started from. When HEAD moved, a changeset path that
 * changed between the base and HEAD is a conflict (requeue, not the Worker's fault); otherwise the
 * Gate runs on the integrated tree — an export of HEAD with the changeset from the cycle's staging
 * copy, read-only, cached by HEAD + changeset — before anything is applied. A Gate FAIL requeues
 * the ticket, counted as a retry only when HEAD alone passes (the change is at fault in this
 * HEAD). No requeue path changes anything on the host but the Controller's records.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Change } from '../../changeset/diff';
import type { Snapshot } from '../../changeset/snapshot';
import type { Plan } from '../../contracts/plan';
import { ContainerRunner, type ContainerRunnerOptions } from '../../gate/container-runner';
import { GateCache } from '../../gate/gate-cache';
import type { GateReport } from '../../gate/gate-model';
import { HostRunner } from '../../gate/host-runner';
import { runGate } from '../../gate/run-gate';
import { checkRepoPath } from '../../paths/validate';
import { jobLimits } from '../../sandbox/job';
import { createStagingCopy, type StagingCopy } from '../../sandbox/staging';
import { stagingTreeHash } from '../../sandbox/staging-snapshots';
import { FactoryError } from '../../util/errors';
import { ssotDocs, type CycleContext } from '../cycle-context';
import { gitQuery, headCommit } from '../git-ops';
import { restoreCycleStatuses } from '../in-progress';
import type { ActInput } from '../phases/act-input';
import { record } from '../phases/record';
import { writeVerdictEvidence } from '../phases/verdict-evidence';
import { gateFacts, preExistingFailure } from '../verdict';

/** What the merge queue does with a PASSed changeset. */
export type Integration =
  /** HEAD is still the cycle's base commit: nothing to do (CHECK's Gate verified the tree ADJUST commits). */
  | { kind: 'same-base' }
  /** HEAD moved; HEAD + changeset passed the Gate: ADJUST applies onto `head` with this Gate report. */
  | { kind: 'integrated'; head: string; gate: GateReport }
  /** Back to the queue: a conflict or an integrated-Gate FAIL; nothing on the host changed. */
  | { kind: 'requeue'; head: string; reason: string; countsAsRetry: boolean; gate?: GateReport };

export type Requeue = Extract<Integration, { kind: 'requeue' }>;

/** What integration reads of DO and CHECK: the staging copy, its changeset and snapshot, the accepted baseline. */
export interface IntegrateInput {
  plan: Plan;
  baseCommit: string;
  done: { staging: Pick<StagingCopy, 'workspace' | 'source' | 'baseCommit' | 'dir'>; changes: readonly Change[]; after: Snapshot };
  checked?: { facts: { baseline?: { accepted: boolean } } };
}

/**
 * Paths (relative to the workspace root) whose content differs between `base` and `head`, the
 * SSOT documents left out: the Controller rewrites them in every ADJUST (cell-only edits).
 */
export async function movedPaths(ctx: Pick<CycleContext, 'root' | 'config' | 'signal'>, base: string, head: string): Promise<string[]> {
  const out = await gitQuery(ctx.root, ['diff', '--no-renames', '--name-only', '-z', '--relative', base, head, '--'], ctx.signal);
  if (out === null) throw new FactoryError(`git diff ${base.slice(0, 12)} ${head.slice(0, 12)} failed in ${ctx.root}: cannot tell what changed since the cycle's base`, 'git-failed');
  const ssot = new Set(ssotDocs(ctx.config));
  return out.split('\0').filter((p) => p && !ssot.has(p));
}

/**
 * The changeset paths that meet a moved path: the same path, or one is a folder of the other (a
 * file that became a folder, or a new folder where a file is written). Pure.
 */
export function conflictingPaths(changes: readonly { path: string }[], moved: readonly string[]): string[] {
  const movedSet = new Set(moved);
  const prefixes = new Set<string>();
  for (const m of moved) {
    const parts = m.split('/');
    for (let i = 1; i < parts.length; i++) prefixes.add(parts.slice(0, i).join('/'));
  }
  return changes
    .map((c) => c.path)
    .filter((p) => {
      if (movedSet.has(p) || prefixes.has(p)) return true;
      const parts = p.split('/');
      for (let i = 1; i < parts.length; i++) if (movedSet.has(parts.slice(0, i).join('/'))) return true;
      return false;
    });
}

/** The cache identity of HEAD + changeset: `stagingTreeHash` of the changeset over `head`. */
export function integratedTreeHash(input: IntegrateInput, head: string): string {
  return stagingTreeHash({ baseCommit: head, source: input.done.staging.source }, input.done.changes, input.done.after);
}

/**
 * Integrate a PASSed changeset onto the current HEAD (see the module comment). Emits `merge`
 * events `integrating` and `gate` when HEAD moved.
 * @throws FactoryError `interrupted` when the signal fires; git and engine errors as they come.
 */
export async function integrate(ctx: CycleContext, input: IntegrateInput): Promise<Integration> {
  const { plan, baseCommit } = input;
  const head = await headCommit(ctx.root, ctx.signal);
  if (!head) throw new FactoryError(`${ctx.root} has no HEAD commit any more: cannot integrate run ${plan.run_id}`, 'git-failed');
  if (head === baseCommit) return { kind: 'same-base' };
  const short = `HEAD ${head.slice(0, 7)}`;
  ctx.emit({ type: 'merge', runId: plan.run_id, step: 'integrating', head });
  ctx.log.info(`merge: ${plan.run_id}: HEAD moved from ${baseCommit.slice(0, 7)} to ${head.slice(0, 7)}; integrating the changeset onto it`);
  const conflicts = conflictingPaths(input.done.changes, await movedPaths(ctx, baseCommit, head));
  if (conflicts.length) {
    return { kind: 'requeue', head, countsAsRetry: false, reason: `conflict: ${conflicts.join(', ')} changed on ${short} since the cycle's base ${baseCommit.slice(0, 7)}; the ticket goes back to the queue (not counted as a retry)` };
  }
  ctx.emit({ type: 'merge', runId: plan.run_id, step: 'gate', head });
  const gate = await gateOn(ctx, plan, head, integratedTreeHash(input, head), (copy) => overlayChangeset(copy, input));
  ctx.emit({ type: 'output', runId: plan.run_id, source: 'gate', text: gate.log });
  if (gate.status === 'PASS') return { kind: 'integrated', head, gate };
  const alone = await gateOn(ctx, plan, head, await headTreeHash(ctx, head));
  const failing = [...alone.guards, ...alone.stages].filter((s) => s.status !== 'PASS' && s.status !== 'SKIPPED').map((s) => ({ kind: 'gate' as const, name: s.name, ...(s.counts ? { failed: s.counts.failed + s.counts.errors } : {}) }));
  // A red baseline the user accepted: a failure HEAD alone has too is not held against the change (as in CHECK).
  if (input.checked?.facts.baseline?.accepted && preExistingFailure(gateFacts(gate), { accepted: true, failing })) return { kind: 'integrated', head, gate };
  const at = gate.failedAt ?? 'unknown step';
  if (alone.status === 'PASS') {
    return { kind: 'requeue', head, gate, countsAsRetry: true, reason: `the Gate fails at ${at} on ${short} + the changeset while ${short} alone passes: the change is at fault on this HEAD (counted as a retry)` };
  }
  return { kind: 'requeue', head, gate, countsAsRetry: false, reason: `the Gate fails at ${at} on ${short} + the changeset, and ${short} alone fails too (at ${alone.failedAt ?? 'unknown step'}): not the change's fault (not counted as a retry)` };
}

/**
 * Whether an integration made before the merge queue's turn still holds: HEAD is the commit it
 * was made on (the base for `same-base`). Inside the queue no cycle of the run commits, so only a
 * commit from outside the run can make it stale; then the queue integrates again.
 */
export async function stillCurrent(ctx: Pick<CycleContext, 'root' | 'signal'>, early: Integration, baseCommit: string): Promise<boolean> {
  const head = await headCommit(ctx.root, ctx.signal);
  return head === (early.kind === 'same-base' ? baseCommit : early.head);
}

/** HEAD's git tree as the baseline keys its Gate (`git-tree <id>`): a baseline PASS on the same tree is a cache hit. */
async function headTreeHash(ctx: CycleContext, head: string): Promise<string> {
  const tree = await gitQuery(ctx.root, ['rev-parse', '--verify', '-q', `${head}:./`], ctx.signal);
  if (!tree) throw new FactoryError(`cannot read the tree of ${head.slice(0, 12)} in ${ctx.root} (git rev-parse ${head.slice(0, 12)}:./ failed)`, 'git-failed');
  return createHash('sha256').update(`git-tree ${tree}\n`).digest('hex');
}

/**
 * The Gate over an export of `head` (with `overlay` applied to it), read-only, one container per
 * step, cached under `treeHash`: the export is made only when a step runs (a cache hit costs none).
 */
async function gateOn(ctx: CycleContext, plan: Plan, head: string, treeHash: string, overlay?: (copy: StagingCopy) => Promise<void>): Promise<GateReport> {
  const { config, root, signal } = ctx;
  let copy: StagingCopy | undefined;
  let failed: Error | undefined;
  const tree = async (): Promise<StagingCopy> => {
    try {
      copy ??= await createStagingCopy({ root, runId: `${plan.run_id}-merge`, modify: [], commit: head, dirtyChecked: true, workspaceMb: config.worker.workspaceMb, memoryMb: config.worker.memoryMb, ...(signal ? { signal } : {}) });
      await overlay?.(copy);
      return copy;
    } catch (err) {
      // Not the tree's verdict: the integration itself failed (the runner only reports a step that could not start).
      failed ??= err instanceof Error ? err : new Error(String(err));
      throw err;
    }
  };
  try {
    const image = ctx.opts.image ?? config.worker.image;
    const host = config.gate.runIn === 'host' ? await tree() : undefined;
    const opts: ContainerRunnerOptions = { treeDir: '', image, limits: jobLimits(config.worker), readOnly: true, runId: plan.run_id, ticket: plan.ticket_id, repo: root, docker: ctx.docker, logger: ctx.log };
    // Made at the first step; the runner reads `cleanupPath` when it creates the container, so a
    // Controller that dies mid-Gate leaves the reaper a container that names the copy to delete.
    opts.treeDir = async () => {
      const made = await tree();
      opts.cleanupPath = made.dir;
      return made.workspace;
    };
    const runner = host ? new HostRunner({ cwd: host.workspace }) : new ContainerRunner(opts);
    const gate = await runGate({ config, treeDir: host?.workspace ?? root, treeHash, runner, cache: new GateCache(ctx.paths.gateCache), runId: plan.run_id, logger: ctx.log, ...(signal ? { signal } : {}) });
    if (signal?.aborted) throw new FactoryError(`interrupted while the Gate ran on ${head.slice(0, 7)} for ${plan.run_id}`, 'interrupted');
    if (failed) throw failed;
    ctx.lap(`merge Gate on ${head.slice(0, 7)}${overlay ? ' + changeset' : ''}`);
    return gate;
  } finally {
    if (copy) void copy.disposeInBackground();
  }
}

/** True when every folder above `rel` inside `root` is a real folder (or absent), never a symlink. */
function parentsAreRealDirs(root: string, rel: string): boolean {
  let cur = root;
  for (const part of rel.split('/').slice(0, -1)) {
    cur = path.join(cur, part);
    const st = fs.lstatSync(cur, { throwIfNoEntry: false });
    if (!st) return true;
    if (!st.isDirectory()) return false;
  }
  return true;
}

/**
 * The changeset from the cycle's staging copy written over the export of HEAD: files with their
 * exec bit, symlinks as links (never followed), deletions. A path that is unsafe or would go
 * through a symlink of HEAD's tree is refused (the conflict check normally catches it first).
 */
async function overlayChangeset(copy: StagingCopy, input: IntegrateInput): Promise<void> {
  for (const c of input.done.changes) {
    if (checkRepoPath(c.path) || !parentsAreRealDirs(copy.workspace, c.path)) throw new FactoryError(`cannot integrate ${JSON.stringify(c.path)}: an unsafe path, or a symlink on HEAD's side of it`, 'staging-export');
    const dest = path.join(copy.workspace, c.path);
    await fs.promises.rm(dest, { force: true });
    if (c.kind === 'deleted') continue;
    const src = path.join(input.done.staging.workspace, c.path);
    const st = await fs.promises.lstat(src);
    await fs.promises.mkdir(path.dirname(dest), { recursive: true });
    if (st.isSymbolicLink()) await fs.promises.symlink(await fs.promises.readlink(src), dest);
    else if (st.isFile()) {
      await fs.promises.copyFile(src, dest);
      await fs.promises.chmod(dest, (st.mode & 0o755) | 0o644);
    }
  }
}

/**
 * A requeued cycle: the AC cells put back (the ticket is in the queue again), the non-PASS
 * evidence (never committed; with the integrated Gate's report when it ran), one history line
 * `FAIL` with `requeue` {reason, countsAsRetry, head} — the kill switches skip it unless it counts —
 * and the `requeued` event. The staging copy is kept like a FAIL's.
 */
export async function recordRequeue(ctx: CycleContext, a: ActInput, r: Requeue): Promise<void> {
  const { plan, outcome } = a;
  ctx.log.warn(`merge: ${plan.run_id} requeued: ${r.reason}`);
  await restoreCycleStatuses(ctx);
  outcome.status = 'FAIL';
  outcome.commit = null;
  outcome.stagingKept = a.done.staging.dir;
  outcome.reasons.push(`requeued: ${r.reason}`);
  const verdict = { status: 'FAIL' as const, cause: 'FAIL' as const, reasons: [r.reason] };
  const checked = r.gate ? { ...a.checked, gate: r.gate, facts: { ...a.checked.facts, gate: gateFacts(r.gate) } } : a.checked;
  await writeVerdictEvidence(ctx, { plan, outcome, act: { ...a, verdict, checked }, requeue: { reason: r.reason, countsAsRetry: r.countsAsRetry, head: r.head } });
  await record(ctx.paths, plan, outcome, 'FAIL', ctx.now, { requeue: { reason: r.reason, countsAsRetry: r.countsAsRetry, head: r.head } });
  ctx.emit({ type: 'requeued', runId: plan.run_id, ticketId: plan.ticket_id, reason: r.reason, countsAsRetry: r.countsAsRetry });
}
