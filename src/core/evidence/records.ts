/**
 * The Controller's own records in a repository: everything under `paths.autopilot` (history, plan,
 * gate cache, audits, the state of every slot — `cycle_state.json`, `cycle_state.<k>.json` — and
 * the stop requests `stop_requests/<runId>`) and the evidence runs no PASS commit takes (runs that did not PASS,
 * `factory gate` / `factory docops` runs). They never make the tree dirty (clean start, spec §8-3)
 * and the DocOps token scan does not read them (a FAIL's evidence quotes the finding it failed on).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FactoryConfig } from '../config/schema';

/** Evidence runs with these statuses are never committed by a cycle: records, not changes. */
const NON_PASS = new Set(['FAIL', 'BLOCKED', 'ABORTED', 'TIMEOUT']);
const trimSlashes = (p: string): string => p.replace(/^\.\//, '').replace(/\/+$/, '');

/**
 * Whether `evidence/<run>/manifest.json` says the run is a record no cycle commits: a run that
 * did not PASS, or a workspace Gate/DocOps run (`factory gate`, `factory docops`).
 */
function recordOnlyRun(root: string, evidenceDir: string, run: string): boolean {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(root, evidenceDir, run, 'manifest.json'), 'utf8')) as { status?: unknown; ticket_id?: unknown };
    if (typeof m.status === 'string' && NON_PASS.has(m.status)) return true;
    return typeof m.ticket_id === 'string' && /^(gate|gate_.+|docops)$/.test(m.ticket_id);
  } catch {
    return false;
  }
}

/**
 * The Controller's own records among `paths` (root-relative, from `git status`): they never make
 * the tree dirty. Reads each evidence run's manifest once.
 */
export function controllerRecordFilter(root: string, config: FactoryConfig): (p: string) => boolean {
  const autopilot = trimSlashes(config.paths.autopilot) + '/';
  const evidence = trimSlashes(config.paths.evidence) + '/';
  const runs = new Map<string, boolean>();
  return (p: string) => {
    if (p.startsWith(autopilot)) return true;
    if (!p.startsWith(evidence)) return false;
    const run = p.slice(evidence.length).split('/')[0] ?? '';
    if (!run || run === p.slice(evidence.length)) return false;
    if (!runs.has(run)) runs.set(run, recordOnlyRun(root, evidence, run));
    return runs.get(run) === true;
  };
}
