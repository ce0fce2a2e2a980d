import * as fs from 'node:fs';
import * as path from 'node:path';
import type Docker from 'dockerode';
import type { FactoryConfig } from '../config/schema';
import type { SpendEntry } from '../contracts/history-entry';
import { appendHistory, readHistory } from '../history/history';
import { reapOrphans, type ReapedContainer } from '../sandbox/reaper';
import { isOwnTempFolder } from '../sandbox/staging-root';
import { atomicWrite } from '../util/atomic-write';
import { nullLogger, type Logger } from '../util/log';
import { clearCycleState, listCycleStates, type CycleState } from './cycle-state';
import { commitMessage, existsInCommit, headCommit, showFile } from './git-ops';
import { restoreStatuses } from './in-progress';
import { writeAbortEvidence } from './abort-evidence';
import type { CyclePaths } from './cycle-paths';
import { runGit } from '../git/git';

/** One interrupted cycle and how it ended. */
export interface RecoveredCycle {
  runId: string;
  ticketId: string;
  phase: string;
  /** `aborted`: recorded ABORTED (rolled back when ADJUST had begun); `completed`: its commit exists. */
  result: 'aborted' | 'completed';
}

/** What the start-up recovery found and did. */
export interface Recovery {
  reaped: ReapedContainer[];
  /** The first interrupted cycle (lowest slot), if there was one. */
  interrupted: { runId: string; ticketId: string; phase: string } | null;
  /** The first interrupted cycle's end: `aborted` (rolled back when ADJUST had begun) or `completed` (its commit exists). */
  result: 'none' | 'aborted' | 'completed';
  /** Every interrupted cycle (one per slot of a parallel run), in the order they were recovered. */
  cycles: RecoveredCycle[];
  /** One line per thing done, for the log and the events. */
  actions: string[];
}

/**
 * Finish or abort every cycle a dead Controller left behind (SECURITY 7, issue §2) — one per slot
 * state file (`cycle_state.json`, `cycle_state.<k>.json`). Called under the repo lock, so the
 * states' owner is gone. Orphaned containers are reaped by label. A cycle interrupted before
 * ADJUST never touched the host: its AC cells are put back and it is recorded ABORTED. One
 * interrupted in ADJUST is complete when HEAD is its commit (`Factory-Run:` trailer); otherwise
 * every file it may have written is restored (changeset paths from the base commit, the
 * Controller's documents from their backups), the half-written evidence run is removed, and it is
 * recorded ABORTED — so nothing is ever applied twice. The ADJUST cycle goes first: its document
 * backups were taken while the others' ACs read IN_PROGRESS, and each other cycle then restores
 * exactly its own cells.
 */
export async function recoverInterrupted(opts: { root: string; config: FactoryConfig; docker: Docker; logger?: Logger }): Promise<Recovery> {
  const log = opts.logger ?? nullLogger;
  const out: Recovery = { reaped: [], interrupted: null, result: 'none', cycles: [], actions: [] };
  out.reaped = await reapOrphans({ docker: opts.docker, logger: log });
  for (const r of out.reaped) out.actions.push(`removed orphaned ${r.role} container ${r.containerId.slice(0, 12)} of run ${r.runId}`);

  // Reaped containers may belong to other repositories' cycles (the labels do not say which):
  // only this repository's state files say which cycles of ITS history were interrupted.
  const slots = listCycleStates(opts.root, opts.config.paths.autopilot);
  const ordered = [...slots.filter((s) => s.state.phase === 'ADJUST'), ...slots.filter((s) => s.state.phase !== 'ADJUST')];
  for (const { file, state } of ordered) {
    const { result, action } = await recoverCycle(opts.root, opts.config, file, state);
    out.cycles.push({ runId: state.runId, ticketId: state.ticketId, phase: state.phase, result });
    out.actions.push(action);
    log.info(`recovery: ${action}`);
  }
  const first = slots[0];
  if (first) {
    out.interrupted = { runId: first.state.runId, ticketId: first.state.ticketId, phase: first.state.phase };
    out.result = out.cycles.find((c) => c.runId === first.state.runId)?.result ?? 'none';
  }
  return out;
}

/** Finish or abort the one cycle of state file `file` (see recoverInterrupted); the file is removed. */
async function recoverCycle(root: string, config: FactoryConfig, file: string, state: CycleState): Promise<{ result: RecoveredCycle['result']; action: string }> {
  if (state.stagingDir && isOwnTempFolder(state.stagingDir)) fs.rmSync(state.stagingDir, { recursive: true, force: true });
  let action: string;
  if (state.phase === 'ADJUST') {
    const head = await adjustCommitted(root, state);
    if (head) {
      if (state.backupDir) fs.rmSync(state.backupDir, { recursive: true, force: true });
      await clearCycleState(file);
      return { result: 'completed', action: `run ${state.runId} was committed (${head.slice(0, 7)}) before the Controller stopped: completed` };
    }
    await rollbackAdjust(root, config, state);
    action = `run ${state.runId} was interrupted in ADJUST: ${state.changes?.length ?? 0} changed path(s) and the SSOT documents restored`;
  } else {
    action = `run ${state.runId} was interrupted in ${state.phase}: nothing had been applied`;
  }
  await restoreStatuses(root, config, state.acStatusBefore);
  const history = path.join(root, config.paths.autopilot, 'history.jsonl');
  await abortOnce({ history, evidence: path.join(root, config.paths.evidence) }, state, `Controller stopped during ${state.phase}`);
  await clearCycleState(file);
  return { result: 'aborted', action }
}

/**
 * Undo a half-done ADJUST: the changeset paths back to the base commit, the Controller's files
 * (SSOT documents, history, cost summary, plan.json) back to their backups, the evidence run
 * removed, our paths unstaged. Used on restart after a crash, and at once when ADJUST fails.
 */
export async function rollbackAdjust(root: string, config: FactoryConfig, state: CycleState): Promise<void> {
  // Roll back: the changeset paths to the base commit, the Controller's files to their backups.
  const touched: string[] = [];
  for (const c of state.changes ?? []) {
    const abs = path.join(root, c.path);
    if (await existsInCommit(root, state.baseCommit, c.path)) await atomicWrite(abs, await showFile(root, state.baseCommit, c.path));
    else fs.rmSync(abs, { force: true });
    touched.push(c.path);
  }
  for (const [rel, backup] of Object.entries(state.backups ?? {})) {
    const abs = path.join(root, rel);
    if (backup && fs.existsSync(backup)) await atomicWrite(abs, fs.readFileSync(backup));
    else if (backup === null) fs.rmSync(abs, { force: true });
    touched.push(rel);
  }
  const evidenceDir = path.join(root, config.paths.evidence, state.runId);
  fs.rmSync(evidenceDir, { recursive: true, force: true });
  touched.push(path.posix.join(config.paths.evidence, state.runId));
  // A crash between `git add` and `git commit` leaves our paths staged: unstage exactly those.
  await runGit(root, ['reset', '-q', '--', ...touched]);
  if (state.backupDir) fs.rmSync(state.backupDir, { recursive: true, force: true });
}

/** The commit of ADJUST when HEAD is it (`Factory-Run:` trailer), else null. */
export async function adjustCommitted(root: string, state: CycleState): Promise<string | null> {
  const head = await headCommit(root);
  return head && head !== state.baseCommit && (await commitMessage(root, head)).includes(`Factory-Run: ${state.runId}`) ? head : null;
}

/** Record a run ABORTED unless history already has a line for it. */
export async function abortOnce(paths: Pick<CyclePaths, 'history' | 'evidence'>, state: CycleState, reason: string, spend: readonly SpendEntry[] = state.spend ?? []): Promise<void> {
  if (readHistory(paths.history).records.some((r) => r.runId === state.runId)) return;
  // What the cycle had already spent (the Controller model's review in PLAN) stays on the record.
  const costUsd = spend.reduce((sum, s) => sum + s.costUsd, 0);
  // The ABORT leaves evidence (marked ABORTED, with the reason) before the history line.
  const evidence = await writeAbortEvidence(paths.evidence, state, reason, spend);
  await appendHistory(paths.history, { runId: state.runId, ticketId: state.ticketId, status: 'ABORTED', endedAt: new Date().toISOString(), costUsd, reason, ...(spend.length ? { spend: [...spend] } : {}), ...(evidence ? { evidence } : {}) });
}
