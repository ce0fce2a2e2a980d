import * as fs from 'node:fs';
import { runProcess } from './spawn';

export type StageVerdict = 'PASS' | 'FAIL' | 'SKIPPED';

/**
 * The Worker's local gate (spec §3: Doctor → Fast → Regression): stages in order, fail-fast; the
 * first FAIL skips the rest. Every stage's output goes to gate.log. The Controller re-runs the
 * gate itself in a fresh container; this run is the Worker's own evidence.
 */
export async function runLocalGate(
  stages: ReadonlyArray<{ name: string; command: string[]; timeoutSeconds: number }>,
  o: { cwd: string; env: Record<string, string>; logFile: string },
): Promise<Record<string, StageVerdict>> {
  const results: Record<string, StageVerdict> = {};
  let failed = false;
  for (const s of stages) {
    if (failed) {
      results[s.name] = 'SKIPPED';
      fs.appendFileSync(o.logFile, `== ${s.name}: SKIPPED (an earlier stage failed)\n`);
      continue;
    }
    fs.appendFileSync(o.logFile, `== ${s.name}: ${s.command.join(' ')}\n`);
    const r = await runProcess({ argv: s.command, env: o.env, cwd: o.cwd, timeoutMs: s.timeoutSeconds * 1000, stdoutFile: o.logFile, stderrFile: o.logFile });
    const pass = r.code === 0 && !r.timedOut;
    results[s.name] = pass ? 'PASS' : 'FAIL';
    failed = !pass;
    fs.appendFileSync(o.logFile, `== ${s.name}: ${pass ? 'PASS' : 'FAIL'} (${r.spawnError ? `cannot start: ${r.spawnError}` : r.timedOut ? 'time cap' : `exit ${r.code}`}, ${(r.durationMs / 1000).toFixed(1)} s)\n`);
  }
  return results;
}
