/**
 * Evidence of an ABORTED cycle (the Controller stopped, was cancelled or failed mid-cycle): what
 * the state file knew, marked ABORTED with the reason, so a person can see why. Never committed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SpendEntry } from '../contracts/history-entry';
import { collectGitInfo, emptyGitInfo } from '../evidence/git-info';
import { writeEvidence } from '../evidence/writer';
import { errorMessage } from '../util/errors';
import type { CycleState } from './cycle-state';
import { bullets, claimRunFolder } from './nonpass-evidence';
import { costByRole } from './spend';

/** The repository `dir` is in: the nearest folder up from it with a `.git`, or null. */
function repoRootOf(dir: string): string | null {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, '.git'))) return d;
    if (path.dirname(d) === d) return null;
  }
}

/** What the phase it stopped in means for the repository. */
function phaseNote(state: CycleState): string {
  if (state.phase === 'ADJUST') return `ADJUST had begun (${state.changes?.length ?? 0} changed path(s)): every file it may have written was restored from the base commit and the backups; nothing was committed.`;
  if (state.phase === 'PLAN') return 'No Worker had run: nothing was applied to the repository.';
  return `The Worker's changes (if any) stayed in the staging copy, which is removed: nothing was applied to the repository.`;
}

/**
 * Write the evidence of an aborted cycle under `evidenceDir`; returns its repo-relative folder
 * (for the history line), or null when none was written. The run id is the folder name unless a
 * folder of that name exists (an earlier FAIL of the same run): then a fresh one. Never throws: an
 * abort is recorded with or without its evidence.
 */
export async function writeAbortEvidence(evidenceDir: string, state: CycleState, reason: string, spend: readonly SpendEntry[]): Promise<string | null> {
  try {
    return await writeAbortRun(evidenceDir, state, reason, spend);
  } catch (err) {
    process.emitWarning(`could not write the ABORTED evidence of ${state.runId}: ${errorMessage(err)}`);
    return null;
  }
}

async function writeAbortRun(evidenceDir: string, state: CycleState, reason: string, spend: readonly SpendEntry[]): Promise<string> {
  const ticketId = state.ticketId || 'unknown';
  const parsedStart = new Date(state.startedAt);
  const startedAt = Number.isNaN(parsedStart.getTime()) ? new Date() : parsedStart;
  const baseCommit = state.baseCommit || null;
  const root = repoRootOf(evidenceDir);
  const folder = await claimRunFolder(evidenceDir, state.runId, startedAt, ticketId, baseCommit);
  const now = new Date();
  const git = root ? await collectGitInfo(root, now) : emptyGitInfo(now);
  const costUsd = spend.reduce((sum, s) => sum + s.costUsd, 0);
  const lines = ['## What happened', '', `The cycle was **ABORTED** during ${state.phase}: ${reason.replace(/\s*\n\s*/g, ' ')}`, '', phaseNote(state), 'This folder is not committed.', ''];
  if (folder.runId !== state.runId) lines.push(`Cycle run id: ${state.runId} (its own folder name was taken).`, '');
  lines.push(`ACs: ${state.acIds.join(', ') || '(none)'}  `, `Base commit: ${state.baseCommit || '(none)'}  `, `Spent before the abort: $${costUsd.toFixed(4)}`);
  if (spend.length) lines.push('', ...bullets(spend.map((s) => `${[s.role, s.agent, s.model].filter(Boolean).join(' ')}: $${s.costUsd.toFixed(4)}`)));
  await writeEvidence(evidenceDir, {
    runId: folder.runId,
    ticketId,
    acIds: state.acIds,
    status: 'ABORTED',
    startedAt,
    endedAt: now,
    git: { ...git, commit: baseCommit },
    costUsd,
    reasons: [reason, `interrupted during ${state.phase}`],
    kpi: { aborted_in: state.phase, cost_by_role: costByRole(spend), files_changed: state.changes?.length ?? 0, ...(folder.runId !== state.runId ? { cycle_run_id: state.runId } : {}) },
    reproduce: [`git checkout ${(baseCommit ?? 'HEAD').slice(0, 12)}`, `factory run --ticket ${ticketId}`, `factory evidence-check ${folder.runId}`],
    notes: lines,
  });
  const dir = path.join(evidenceDir, folder.runId);
  return root ? `${path.relative(root, dir).split(path.sep).join('/')}/` : `${dir}/`;
}
