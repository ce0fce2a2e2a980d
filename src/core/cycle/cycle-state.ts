import * as fs from 'node:fs';
import * as path from 'node:path';
import { cycleStateSchema, type CycleState } from '../contracts/records';
import type { CyclePhase } from '../contracts/status';
import { atomicWrite } from '../util/atomic-write';

export type { CyclePhase, CycleState };

/**
 * `<autopilot>/cycle_state.json`: present exactly while a cycle is in flight. A parallel run
 * (`factory run --parallel N`) gives each cycle in flight a slot; slot k > 0 keeps its state in
 * `cycle_state.<k>.json`, so a serial run's file is unchanged and recovery finds every slot.
 */
export function stateFile(root: string, autopilotDir: string, slot = 0): string {
  return path.join(root, autopilotDir, slot > 0 ? `cycle_state.${slot}.json` : 'cycle_state.json');
}

/** A state file's name: `cycle_state.json` or `cycle_state.<slot>.json`. */
export const STATE_FILE_RE = /^cycle_state(?:\.([1-9]\d{0,3}))?\.json$/;

/** Every cycle in flight on this repository (one per slot), in slot order; unreadable files are skipped. */
export function listCycleStates(root: string, autopilotDir: string): { slot: number; file: string; state: CycleState }[] {
  let names: string[];
  try {
    names = fs.readdirSync(path.join(root, autopilotDir));
  } catch {
    return [];
  }
  const out: { slot: number; file: string; state: CycleState }[] = [];
  for (const name of names) {
    const m = STATE_FILE_RE.exec(name);
    if (!m) continue;
    const slot = m[1] ? Number(m[1]) : 0;
    const file = stateFile(root, autopilotDir, slot);
    const state = readCycleState(file);
    if (state) out.push({ slot, file, state });
  }
  return out.sort((a, b) => a.slot - b.slot);
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
