/**
 * The cycle's public vocabulary: its options and dependencies, the events it emits, the review
 * hook's request and answer, and the outcome it returns. Phases and callers import them from here
 * (orchestrator.ts re-exports them), so no phase depends on the orchestrator.
 */
import type Docker from 'dockerode';
import type { FactoryConfig } from '../config/schema';
import type { Plan } from '../contracts/plan';
import type { ReviewFeedback } from '../contracts/review-feedback';
import type { CyclePhase, CycleStatus } from '../contracts/status';
import type { SpendEntry } from '../contracts/history-entry';
import type { Violation } from '../changeset/scope';
import type { GatewayRecord, ProviderKeys } from '../gateway/gateway';
import type { Logger } from '../util/log';
import type { Recovery } from './recover';

/** Events for the UI (Run panel, status bar) and `factory run` / `tail`. */
export type CycleEvent =
  | { type: 'recovered'; recovery: Recovery }
  | { type: 'plan'; plan: Plan; escalate: boolean; auditorRequired: boolean }
  | { type: 'phase'; runId: string; phase: CyclePhase; at: string }
  | { type: 'output'; runId: string; source: 'worker' | 'gate' | 'auditor'; text: string }
  | { type: 'review'; runId: string; changes: number }
  /**
   * A role's metered spend so far (issue 16): after every model call its gateway metered, and once
   * more when the role ends. `spend` is the role's running total per model (history's entries).
   */
  | { type: 'spend'; runId: string; role: SpendEntry['role']; spend: SpendEntry[] }
  /**
   * `git.push` (issue 17): the push after the PASS commit (`commit`), or the retry, before the
   * cycle, of commits an earlier failed push left behind (`retry`). `commits`: not on the upstream before.
   */
  | { type: 'push'; when: 'commit' | 'retry'; pushed: boolean; commits: number; upstream: string | null; error?: string }
  /** Spec §8-3 baseline: the Gate and DocOps on HEAD before the cycle (the first cycle of a run). */
  | { type: 'baseline'; report: BaselineReport }
  | { type: 'end'; outcome: CycleOutcome }
  // A parallel run (cycle/parallel/): a ticket waits for a cycle in flight whose scope overlaps its
  // own; a PASSed changeset is integrated onto the current HEAD (merge queue), or sent back.
  | { type: 'waiting'; ticketId: string; behind: string[]; reason: string }
  | { type: 'merge'; runId: string; step: 'queued' | 'integrating' | 'gate' | 'committed'; head: string }
  | { type: 'requeued'; runId: string; ticketId: string; reason: string; countsAsRetry: boolean }
  /** A compare run (`compare`, issue 20): both candidates checked, and the one applied (null: none). */
  | { type: 'compare'; candidates: CompareCandidate[]; picked: number | null };

/** What one cycle runs on and with: the repository, an optional ticket, agent, config and image overrides. */
export interface CycleOptions {
  /** The repository (a git checkout with at least one commit). */
  root: string;
  /** Work on this ticket instead of the queue's next one. */
  ticket?: string;
  /** Agent override (default: the routing table's choice for the plan's risk; recorded as an override). */
  agent?: string;
  /** Model override for the Worker (default: the routing table's, or the overriding agent's configured one). */
  model?: string;
  /** Who asked for the agent/model override, in words, for plan.json (default: "--agent X --model Y"). */
  overrideSource?: string;
  /** Recordings for the replay agent: `<dir>/<TICKET>.json` (Worker) and `<dir>/<TICKET>.audit.json` (Auditor). */
  replayDir?: string;
  /** Config to use instead of `.factory/config.json`. */
  config?: FactoryConfig;
  /** Worker/Gate/Auditor image override. */
  image?: string;
  lockStaleMs?: number;
  /** How many FAILed staging copies to keep for inspection (older ones are pruned). Default 3. */
  keepFailedStaging?: number;
  /** worker.js on the host (default: next to the bundle, or dist/). */
  runtimeFile?: string;
  /** Provider keys for the model gateway (default: the host environment's; the extension passes SecretStorage's). */
  keys?: ProviderKeys;
  /**
   * Spec §8-3 baseline: Gate and DocOps on HEAD before the cycle. `run` (default): check it (the
   * gate cache by tree hash makes a repeat free); `skip`: a later cycle of the same run whose
   * first cycle already checked it (the CLI and the extension pass this from the second cycle on).
   */
  baseline?: 'run' | 'skip';
  /** Go on when the baseline is red (`--accept-red-baseline`); recorded in the evidence. */
  acceptRedBaseline?: boolean;
  /**
   * The cycle's slot in a parallel run (0 = the only cycle, `cycle_state.json`): where its state
   * is persisted (`cycle-state.ts stateFile`).
   */
  slot?: number;
  /** "Request changes" for this cycle's Worker (`factory run --feedback FILE`); default: the ticket's stored feedback, if any. */
  feedback?: ReviewFeedback;
  /** Run the plan on two agents side by side and apply one (`--compare a,b`, issue 20). */
  compare?: { agents: [string, string]; pick: 'auto' | 'ask' };
}

/** The baseline of spec §8-3: Gate and DocOps on HEAD before any change. */
export interface BaselineReport {
  /** HEAD's commit and git tree the baseline ran on. */
  commit: string;
  tree: string;
  status: 'green' | 'red';
  /** What failed on HEAD: Gate stages (with their failed-test count when known) and DocOps guards. */
  failing: { kind: 'gate' | 'docops'; name: string; failed?: number }[];
  /** The run went on although the baseline was red (`--accept-red-baseline`). */
  accepted: boolean;
  /** The Gate result came from the gate cache (same tree). */
  cached: boolean;
  durationMs: number;
}

/** What the Controller model's scope review cost in PLAN (spec §6-1): part of the cycle's budget and cost. */
export interface ControllerSpend {
  /** Metered by the review's own gateway (also when the review failed: a failed call may still cost). */
  costUsd: number;
  /** History's `spend` entries (role `controller`); empty when no call was made. */
  spend: SpendEntry[];
  /** The gateway's records of the review's calls. */
  records: GatewayRecord[];
}

/** What a person reviews before ADJUST when approval is required (`factory.review.requireApproval`). */
export interface ChangesetReview {
  runId: string;
  ticketId: string;
  acIds: string[];
  /** The commit the Worker started from: the "before" side of every diff. */
  baseCommit: string;
  /** The verified staging tree (the "after" side); read it, never write it. */
  workspace: string;
  changes: { path: string; kind: string }[];
  /** The Auditor's verdict when it ran. */
  audit: CycleOutcome['audit'];
}

/**
 * A person's decision on a changeset: approve applies it; reject fails the cycle with the reason;
 * reject with `feedback` is "Request changes" (issue 20): the cycle FAILs and the feedback is kept
 * for the ticket's next attempt, whose Worker gets it in its task.
 */
export type ReviewDecision = { approved: true } | { approved: false; reason: string; feedback?: ReviewFeedback };

/** One side of a compare run (`factory run --compare a,b`, issue 20): what the person (or `--pick auto`) chooses from. */
export interface CompareCandidate {
  runId: string;
  agent: string;
  model?: string;
  /** Every check passed (Gate, scope, Auditor when it ran): only such a candidate can be applied. */
  passed: boolean;
  reasons: string[];
  gate: 'PASS' | 'FAIL' | 'not run';
  changes: { path: string; kind: string }[];
  /** Lines added + removed over the changeset's text files. */
  diffLines: number;
  tokens: { input: number; output: number };
  costUsd: number;
  /** The candidate's verified staging tree (the review diff's "after" side); read it, never write it. */
  workspace: string;
  baseCommit: string;
}

/** The cycle's collaborators, injectable for tests and the editor: engine, log, cancellation, events, clock, review. */
export interface CycleDeps {
  docker?: Docker;
  logger?: Logger;
  signal?: AbortSignal;
  onEvent?: (e: CycleEvent) => void;
  now?: () => Date;
  /**
   * Asked after every check passed and before anything is applied. Absent: no review (the CLI).
   * Interrupting the cycle (signal) while it waits ends the cycle ABORTED, nothing applied.
   */
  review?: (r: ChangesetReview) => Promise<ReviewDecision>;
  /**
   * A compare run's choice (`compare.pick: 'ask'`): the index of the candidate to apply, or null
   * for none. Absent with `ask`: the CLI's `--pick auto` rule (the cheaper passing one).
   */
  pickCandidate?: (candidates: CompareCandidate[]) => Promise<number | null>;
}

/** One cycle's outcome: what `factory run --json` prints per cycle. */
export interface CycleOutcome {
  runId: string;
  ticketId: string;
  acIds: string[];
  status: CycleStatus;
  /** Why the status is not PASS, one line each. */
  reasons: string[];
  /**
   * Metered by the gateways: the Controller model's review, the Worker and the Auditor (the
   * agent's own figure only when no call went through the Worker's gateway).
   */
  costUsd: number;
  /** Part of `costUsd` by role, when a role other than the Worker spent (the Controller model): history's `spend`. */
  spend?: SpendEntry[];
  /** Repo-relative evidence folder of the cycle, whatever its verdict (a non-PASS one is never committed); null when none was written. */
  evidencePath: string | null;
  /** The ADJUST commit (PASS) or the BLOCKED commit, else null. */
  commit: string | null;
  /** The retry/budget/time cap set the ticket BLOCKED in the roadmap. */
  blocked: boolean;
  /** Two consecutive FAILs before this cycle: the Auditor was called. */
  escalated: boolean;
  audit: { verdict: 'PASS' | 'FAIL'; violations: number; report: string } | null;
  changes: { path: string; kind: string }[];
  violations: Violation[];
  /** The staging copy kept for inspection after a FAIL. */
  stagingKept: string | null;
  /** `git.push` on and a PASS committed: whether the push succeeded (the commit is kept either way). */
  pushed?: boolean;
  /** Why that push failed. */
  pushError?: string;
  /** The retry, before this cycle, of an earlier failed push (absent: nothing was left to push). */
  pushRetry?: { pushed: boolean; commits: number; error?: string };
  /** A compare run: both candidates and the index of the one applied (null: none); on the run that counts. */
  compare?: { candidates: CompareCandidate[]; picked: number | null };
  /** The baseline on HEAD this cycle started from (absent when this cycle skipped it: a later cycle of the same run). */
  baseline?: BaselineReport;
  /** DocOps on the adjusted documents before the PASS commit (spec §8-3; absent: ADJUST did not get that far). A FAIL forbids the commit. */
  docops?: { status: 'PASS' | 'FAIL'; durationMs: number };
  /**
   * Wall times (ms). `agentMs`: the Worker container, start to exit; `agentOwnMs`: the agent process
   * and the Worker's own gate commands, as the runtime measured them (its boot, prompt and
   * changed-file list are not in it); `gateMs`: the whole Gate; `gateCommandMs`: its commands alone.
   * Controller overhead = totalMs − agentOwnMs − gateCommandMs (bench/cycle.bench.ts).
   */
  timings: { totalMs: number; agentMs: number; agentOwnMs: number; gateMs: number; gateCommandMs: number; auditMs: number; phases: Partial<Record<CyclePhase, number>> };
}

/** The outcome before anything is known: a FAIL with no reasons, nothing kept. */
export function emptyOutcome(plan: Plan): CycleOutcome {
  return {
    runId: plan.run_id,
    ticketId: plan.ticket_id,
    acIds: [...plan.ac_ids],
    status: 'FAIL',
    reasons: [],
    costUsd: 0,
    evidencePath: null,
    commit: null,
    blocked: false,
    escalated: false,
    audit: null,
    changes: [],
    violations: [],
    stagingKept: null,
    timings: { totalMs: 0, agentMs: 0, agentOwnMs: 0, gateMs: 0, gateCommandMs: 0, auditMs: 0, phases: {} },
  };
}
