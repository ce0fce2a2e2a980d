import * as fs from 'node:fs';
import * as path from 'node:path';
import { readHistory } from '../../src/core/history/history';
import { isOwnTempFolder, stagingRoots } from '../../src/core/sandbox/staging-root';

/**
 * Staging copies of a run, wherever the Controller put them (the temp folder, or RAM when the
 * tree fits): `<root>/factory-<runId>-XXXX` in every staging root.
 */
export function stagingDirsOf(runId: string): string[] {
  const out: string[] = [];
  for (const root of stagingRoots()) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(root);
    } catch {
      continue;
    }
    out.push(...names.filter((d) => d.startsWith(`factory-${runId}-`)).map((d) => path.join(root, d)));
  }
  return out;
}

/**
 * Free bytes of every file system a staging copy can be on, one reading per file system (the
 * temp folder and /dev/shm may be the same): for tests that bound how much a Worker can fill.
 */
export function stagingFreeBytes(): number {
  const seen = new Map<string, number>();
  for (const root of stagingRoots()) {
    try {
      const st = fs.statfsSync(root);
      const dev = String(fs.statSync(root).dev);
      seen.set(dev, st.bavail * st.bsize);
    } catch {
      /* no such root here */
    }
  }
  return [...seen.values()].reduce((a, b) => a + b, 0);
}

/**
 * Delete the staging copies a throw-away repository's FAILed cycles kept for inspection (they may
 * be in RAM, /dev/shm, and outlive the repository): the ones its history names. Call it before
 * deleting the repository.
 */
export function removeKeptStaging(root: string, historyRel = path.join('logs', 'autopilot', 'history.jsonl')): void {
  const history = path.join(root, historyRel);
  if (!fs.existsSync(history)) return;
  for (const r of readHistory(history).records) {
    if (typeof r.stagingKept === 'string' && isOwnTempFolder(r.stagingKept)) fs.rmSync(r.stagingKept, { recursive: true, force: true });
  }
}
