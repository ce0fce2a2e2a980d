import * as fs from 'node:fs';
import * as path from 'node:path';
import { cycleStateSchema, type CycleState } from '../contracts/records';
import type { CyclePhase } from '../contracts/status';
import { atomicWrite } from '../util/atomic-write';

export type { CyclePhase, CycleState };

/** `<autopilot>/cycle_state.json`: present exactly while a cycle is in flight. */
export function stateFile(root: string, autopilotDir: string): string {
  return path.join(root, autopilotDir, 'cycle_state.json');
}

/**
 * The persisted state of the cycle in flight, or null when none is (or the file is unreadable,
 * which a crash cannot cause: every write is atomic).
 */
export function readCycleState(file: string): CycleState | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = cycleStateSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Persist the state atomically (SECURITY 26): a kill leaves the previous or the new phase. */
export async function writeCycleState(file: string, state: CycleState): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await atomicWrite(file, JSON.stringify(state, null, 2) + '\n');
}

/** The cycle is over: remove the state file. */
export async function clearCycleState(file: string): Promise<void> {
  await fs.promises.rm(file, { force: true });
}
