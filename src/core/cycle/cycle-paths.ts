import * as path from 'node:path';
import type { FactoryConfig } from '../config/schema';
import { readHistory } from '../history/history';
import { stateFile } from './cycle-state';
import { toCycleRecord, type CycleRecord } from '../contracts/history-entry';

/** Repository paths of the Controller's own records. */
export function cyclePaths(root: string, config: FactoryConfig) {
  const autopilot = path.join(root, config.paths.autopilot);
  return {
    autopilot,
    history: path.join(autopilot, 'history.jsonl'),
    plan: path.join(autopilot, 'plan.json'),
    state: stateFile(root, config.paths.autopilot),
    evidence: path.join(root, config.paths.evidence),
    audits: path.join(autopilot, 'audits'),
    gateCache: path.join(autopilot, 'gate_cache'),
    /** Review feedback pending for a ticket's next attempt, and the used ones (cycle/feedback.ts). */
    feedback: path.join(autopilot, 'feedback'),
    costSummary: (month: string) => path.join(autopilot, `cost_summary_${month}.json`),
  };
}

/** The Controller's record paths of one repository (`cyclePaths`). */
export type CyclePaths = ReturnType<typeof cyclePaths>;

/** History records in the shape the kill switches read. */
export function cycleRecords(historyFile: string): CycleRecord[] {
  return readHistory(historyFile).records.map(toCycleRecord);
}
