import type { StepStatus } from '../contracts/status';
import type { TestCounts } from './test-counts';

/** A step's verdict. TIMEOUT and ERROR (could not start) count as failures. */
export type { StepStatus };

/** One guard or stage of a Gate run. */
export interface StepResult {
  kind: 'guard' | 'stage';
  name: string;
  argv: string[];
  status: StepStatus;
  exitCode: number | null;
  /** ISO timestamps. */
  startedAt: string;
  endedAt: string;
  durationMs: number;
  counts?: TestCounts;
  /** Why the step is not PASS, in one line (`exit 1`, `timed out after 600s`, `skipped: Welding failed`). */
  reason?: string;
  /** The last lines of the output (what gate.log shows for a failure). */
  outputTail: string;
  /** Full captured output (tail-capped by the runner); written to evidence artifacts, not cached. */
  output?: string;
  /** True when the result was taken from the gate cache instead of being run. */
  cached?: boolean;
}

export interface GateCacheInfo {
  key: string;
  hit: boolean;
  /** On a hit: the evidence run whose Gate produced the reused PASS. */
  sourceRunId?: string;
  storedAt?: string;
  /** Time the cache decision took (hashing the tree included). */
  decideMs: number;
}

/** The outcome of one Gate: guards fail-fast, then the stages in order. */
export interface GateReport {
  status: 'PASS' | 'FAIL';
  /** The first step that failed, if any. */
  failedAt?: string;
  runner: 'host' | 'container';
  runnerIdentity: string;
  treeHash: string;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  guards: StepResult[];
  stages: StepResult[];
  cache?: GateCacheInfo;
  /** The gate.log text, in the evidence format. */
  log: string;
}

/** `{doctor: 'PASS', fast: 'FAIL', regression: 'SKIPPED'}` — the manifest's and result.json's `gates`. */
export function gateSummary(report: Pick<GateReport, 'stages'>): Record<string, StepStatus> {
  const out: Record<string, StepStatus> = {};
  for (const s of report.stages) out[s.name] = s.status;
  return out;
}

/** The time a Gate's commands took (cached steps cost none): what a cycle's `gateCommandMs` counts. */
export function gateCommandMs(report: Pick<GateReport, 'guards' | 'stages'>): number {
  return Math.round([...report.guards, ...report.stages].reduce((sum, st) => sum + (st.cached ? 0 : st.durationMs), 0));
}
