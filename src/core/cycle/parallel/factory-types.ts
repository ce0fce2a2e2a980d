/**
 * The public vocabulary of a factory run: up to N cycles in flight on disjoint scopes, integrated
 * one at a time through the merge queue (`factory run --parallel N`, the extension's "parallel"
 * setting). A run with `parallel: 1` is the serial loop `factory run` always had.
 */
import type { CycleOptions, CycleOutcome } from '../cycle-types';

/** What `runFactory` is asked to do. */
export interface FactoryRunOptions extends Omit<CycleOptions, 'slot' | 'baseline'> {
  /** Cycles in flight at once (1 … 16). Absent: the backend's capacity (the swarm's nodes, issue 19), 1 on the local engine. */
  parallel?: number;
  /** Stop starting cycles after this many have started (`--max-cycles`). */
  maxCycles: number;
  /**
   * The whole run's spend cap in USD (`--batch-budget`): no cycle starts whose budget
   * (`killSwitch.budgetUsd`), added to what finished cycles spent and what the cycles in flight
   * may still spend, would exceed it.
   */
  batchBudgetUsd?: number;
  /** Skip the baseline on HEAD (spec §8-3) — only for benchmarks and callers that ran it already. */
  baseline?: 'run' | 'skip';
}

/** Why the run stopped starting cycles. */
export type FactoryStopReason = 'queue-empty' | 'max-cycles' | 'batch-budget' | 'ticket-done' | 'aborted';

/** What a factory run did. */
export interface FactoryRunResult {
  /** Every cycle that ended, in the order they ended (commits land in this order too). */
  outcomes: CycleOutcome[];
  stoppedBy: FactoryStopReason;
  /** One line for the user: why the run stopped (the empty queue's message, the budget left …). */
  message: string;
  /** Metered USD of every cycle of the run. */
  spentUsd: number;
}
