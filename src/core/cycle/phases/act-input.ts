/** What ADJUST (and the evidence it writes) acts on. */
import type { Plan } from '../../contracts/plan';
import type { GatewayRecord } from '../../gateway/gateway';
import type { BuiltPlan } from '../../plan/builder';
import type { SsotIndex } from '../../ssot/model';
import type { CycleOutcome } from '../cycle-types';
import type { Integration } from '../parallel/integrate';
import type { Verdict } from '../verdict';
import type { CheckOutput } from './check';
import type { DoOutput } from './do';

/** What ADJUST acts on. `outcome` is the cycle's, updated in place (status, evidence, commit). */
export interface ActInput {
  plan: Plan;
  built: BuiltPlan;
  index: SsotIndex;
  startedAt: Date;
  done: DoOutput;
  checked: CheckOutput;
  verdict: Verdict;
  outcome: CycleOutcome;
  /** The Controller model's gateway records (PLAN), for the evidence's gateway.jsonl. */
  controllerRecords?: readonly GatewayRecord[];
  /**
   * A PASS's integration onto the HEAD of the moment, made while the cycle waited for the merge
   * queue (parallel/integrate.ts, a requeue included): ADJUST takes it when HEAD has not moved
   * since (`stillCurrent`), else — or when absent — integrates itself before applying.
   */
  integration?: Integration;
}
