import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { CYCLE_PHASES, type CyclePhase } from '../contracts/status';
import { atomicWrite } from '../util/atomic-write';

export { CYCLE_PHASES, type CyclePhase };

const stateSchema = z.object({
  version: z.literal(1),
  runId: z.string(),
  ticketId: z.string(),
  acIds: z.array(z.string()),
  phase: z.enum(CYCLE_PHASES),
  baseCommit: z.string(),
  startedAt: z.string(),
  /** `host:pid` of the Controller that runs the cycle. */
  owner: z.string(),
  /** The staging copy (a `<tmp>/factory-*` folder), once made. */
  stagingDir: z.string().optional(),
  /** ADJUST only: repo-relative paths of the changeset being applied. */
  changes: z.array(z.object({ path: z.string(), kind: z.string() })).optional(),
  /** ADJUST only: Controller files about to be rewritten → their backup (null: did not exist). */
  backups: z.record(z.string(), z.string().nullable()).optional(),
  /** ADJUST only: folder of the backups. */
  backupDir: z.string().optional(),
});
export type CycleState = z.infer<typeof stateSchema>;

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
    const parsed = stateSchema.safeParse(JSON.parse(text));
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
