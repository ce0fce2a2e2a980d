import type { GateReport } from './gate-model';

export interface WorkerVerdict {
  /** What the Controller records. */
  status: 'PASS' | 'FAIL';
  /** What the Worker claimed in result.json. */
  claimed: string;
  /** True when the Worker said PASS and the Controller's Gate said otherwise. */
  overridden: boolean;
  reason?: string;
}

/**
 * Spec §5-3 "Gate FAIL → the Worker's result is rejected": the Controller's own Gate decides. A
 * Worker that reports PASS while any Controller gate step failed is recorded as FAIL, and a Worker
 * that reports anything but PASS is never upgraded by a green Gate.
 */
export function reconcileWorkerStatus(claimed: string, gate: Pick<GateReport, 'status' | 'failedAt'>): WorkerVerdict {
  if (claimed === 'PASS' && gate.status === 'PASS') return { status: 'PASS', claimed, overridden: false };
  if (claimed === 'PASS') {
    return { status: 'FAIL', claimed, overridden: true, reason: `Worker reported PASS but the Controller's Gate failed at ${gate.failedAt ?? 'a step'}` };
  }
  return { status: 'FAIL', claimed, overridden: false, reason: `Worker reported ${claimed}` };
}
