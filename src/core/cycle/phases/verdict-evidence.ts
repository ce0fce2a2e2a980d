/**
 * Evidence of a cycle that did not PASS (FAIL, BLOCKED): its own run folder, marked with the
 * verdict and the reasons, so a person can see why.
 */
import type { Plan } from '../../contracts/plan';
import type { CycleContext } from '../cycle-context';
import type { CycleOutcome } from '../cycle-types';
import type { ActInput } from './act-input';

/** What a cycle that did not PASS leaves as evidence: its plan, outcome so far, and (after CHECK) what DO and CHECK found. */
export interface VerdictEvidenceInput {
  plan: Plan;
  outcome: CycleOutcome;
  act?: ActInput;
}

/**
 * Evidence of a FAIL or BLOCKED cycle, marked with its verdict; sets `outcome.evidencePath`.
 * TODO(issue 17, item 5): not written yet.
 */
export async function writeVerdictEvidence(_ctx: CycleContext, _v: VerdictEvidenceInput): Promise<void> {
  return;
}
