import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Conflict } from '../changeset/apply';
import type { Change, ChangeKind } from '../changeset/diff';
import { compileScope, type Violation } from '../changeset/scope';
import type { Plan } from '../contracts/plan';
import { readResultJson, type WorkerResult } from '../contracts/result';
import { UntrustedJsonError } from '../contracts/untrusted-json';
import { checkRepoPath } from '../paths/validate';
import { errorMessage } from '../util/errors';
import type { ContainerResult } from './container-spec';
import type { ReapedContainer } from './reaper';
import { ignoredPaths, type StagingCopy } from './staging';

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

/** The report of a run that has not got anywhere yet (an ERROR until decided). */
export function emptyReport(plan: Plan): SandboxReport {
  return {
    status: 'ERROR', runId: plan.run_id, ticketId: plan.ticket_id, baseCommit: null, exitCode: null, changeset: [], ignored: { count: 0, sample: [] },
    violations: [], applied: false, conflicts: [], result: null, resultError: null, reasons: [], container: null, reaped: [], durationMs: 0,
  };
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

export function readResult(staging: StagingCopy, report: SandboxReport): void {
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
export function decide(report: SandboxReport, run: ContainerResult, overCap: boolean, aborted: boolean): void {
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
