/**
 * What every phase of a cycle shares: the repository, config, record paths, engine, log, clock,
 * event sink and cancellation (`CycleEnv`), plus — once PLAN has chosen the run — the persisted
 * cycle state and the one way to advance it (`CycleContext.setPhase`). Also the fault points the
 * crash tests kill the Controller at.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type Docker from 'dockerode';
import type { ExecutionBackend } from '../backend/backend';
import type { FactoryConfig } from '../config/schema';
import type { CyclePhase } from '../contracts/status';
import type { Logger } from '../util/log';
import type { CyclePaths } from './cycle-paths';
import type { CycleState } from './cycle-state';
import type { CycleDeps, CycleEvent, CycleOptions } from './cycle-types';

/** The cycle's environment, fixed before PLAN. */
export interface CycleEnv {
  root: string;
  config: FactoryConfig;
  paths: CyclePaths;
  opts: CycleOptions;
  deps: CycleDeps;
  docker: Docker;
  /** Where the Worker and Gate containers run (the run's: local engine or swarm). */
  backend: ExecutionBackend;
  log: Logger;
  now: () => Date;
  /** Sends an event to `deps.onEvent`; a failing listener is logged, never fatal. */
  emit: (e: CycleEvent) => void;
  /** The debug stopwatch (`factory run -v`). */
  lap: (step: string) => void;
  signal: AbortSignal | undefined;
}

/** The environment plus the run's persisted state, from PLAN on. */
export interface CycleContext extends CycleEnv {
  state: CycleState;
  /** Where `state` is persisted: `cycle_state.json`, or the slot's file in a parallel run (`stateFile`). */
  statePath: string;
  /** Persist the state in `phase` (with `extra`), announce it, and pass the phase's fault point. */
  setPhase: (phase: CyclePhase, extra?: Partial<CycleState>) => Promise<void>;
}

/** The documents ADJUST edits and commits: roadmap, ledger, extra roadmaps. */
export const ssotDocs = (c: FactoryConfig): string[] => [c.ssot.roadmap, c.ssot.ledger, ...c.ssot.extraRoadmaps];

/** Fault injection for the crash tests: `FACTORY_FAULT_KILL_AT=ADJUST:applied` SIGKILLs this process there. */
export function faultPoint(name: string): void {
  const at = process.env.FACTORY_FAULT_KILL_AT;
  if (at && at === name) process.kill(process.pid, 'SIGKILL');
}

/** Delay injection for the ordering tests: `FACTORY_FAULT_DELAY_AT=DO:snapshot=1500` waits 1.5 s there. */
export async function faultDelay(name: string): Promise<void> {
  const m = /^(.+)=(\d+)$/.exec(process.env.FACTORY_FAULT_DELAY_AT ?? '');
  if (m && m[1] === name) await new Promise((r) => setTimeout(r, Number(m[2])));
}

/** Read a repo-relative text file, or '' when absent. */
export function readText(root: string, rel: string): string {
  try {
    return fs.readFileSync(path.join(root, rel), 'utf8');
  } catch {
    return '';
  }
}

/** `p` relative to `root`, with forward slashes (how records and commits name paths). */
export function rel(root: string, p: string): string {
  return path.relative(root, p).split(path.sep).join('/');
}

/** Whether `p` is a symbolic link (false when absent). */
export function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
