/**
 * Evidence of an ABORTED cycle (the Controller stopped, was cancelled or failed mid-cycle): what
 * the state file knew, marked ABORTED with the reason, so a person can see why.
 */
import type { SpendEntry } from '../contracts/history-entry';
import type { CycleState } from './cycle-state';

/**
 * Write the evidence of an aborted cycle under `evidenceDir`; returns its repo-relative folder
 * (for the history line), or null when none was written.
 * TODO(issue 17, item 5): not written yet.
 */
export async function writeAbortEvidence(_evidenceDir: string, _state: CycleState, _reason: string, _spend: readonly SpendEntry[]): Promise<string | null> {
  return null;
}
