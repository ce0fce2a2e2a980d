import type { FactoryConfig } from '../config/schema';
import type { CycleRecord } from '../contracts/history-entry';
import { FAILED_STATUSES, type CycleStatus } from '../contracts/status';

export type { CycleStatus };

export type { CycleRecord };

/** The retry counters of one ticket and what they call for. */
export interface KillSwitchDecision {
  /** Failed attempts of this ticket since its last PASS (ABORTED cycles, requeues not counted as retries and compare candidates not picked are not attempts). */
  attempts: number;
  /** Trailing run of FAIL/TIMEOUT for this ticket. */
  consecutiveFails: number;
  /** Retry cap reached: the ticket must be set BLOCKED and handed to a person (spec §5-4). */
  block: boolean;
  /** Two consecutive FAILs (default): call the Auditor (spec §5-3). */
  escalate: boolean;
  reason?: string;
}

/**
 * Retry counts derive from history alone (spec §5-4; DESIGN §3): no second state store.
 * Records must be in history order (oldest first).
 */
export function evaluateKillSwitches(history: readonly CycleRecord[], ticketId: string, config: FactoryConfig): KillSwitchDecision {
  let attempts = 0;
  let consecutiveFails = 0;
  let trailing = true;
  for (let i = history.length - 1; i >= 0; i--) {
    const r = history[i];
    if (!r || r.ticketId !== ticketId) continue;
    // A compare run's candidate that was not picked: the compare counts once, on the other run's line.
    if (r.compare && !r.compare.picked) continue;
    if (r.status === 'PASS' || r.status === 'BLOCKED') break; // a PASS resets; a BLOCKED was handled by a person
    if (r.status === 'ABORTED') continue;
    // The merge queue sent it back for a reason not the Worker's (a conflict, a red HEAD): no attempt.
    if (r.requeue && !r.requeue.countsAsRetry) continue;
    if (FAILED_STATUSES.has(r.status)) {
      attempts++;
      if (trailing) consecutiveFails++;
    } else {
      trailing = false;
    }
  }
  const { maxRetries, escalateAfterFails } = config.killSwitch;
  const block = attempts >= maxRetries;
  const escalate = !block && consecutiveFails >= escalateAfterFails;
  const reason = block
    ? `retry cap: ${attempts} failed attempts (cap ${maxRetries})`
    : escalate
      ? `${consecutiveFails} consecutive FAILs: Auditor escalation`
      : undefined;
  return { attempts, consecutiveFails, block, escalate, ...(reason ? { reason } : {}) };
}

/** Whether the cycle's metered spend has reached its budget (the gateway enforces; this reports). */
export function budgetExceeded(spentUsd: number, config: FactoryConfig): boolean {
  return spentUsd >= config.killSwitch.budgetUsd;
}
