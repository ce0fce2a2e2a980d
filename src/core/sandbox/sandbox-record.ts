import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Plan } from '../contracts/plan';
import { appendHistory } from '../history/history';
import { atomicWrite } from '../util/atomic-write';
import { ownerTag } from './container-spec';
import type { SandboxReport } from './sandbox-verdict';

/** Marker of the cycle in flight, next to the history it will be recorded in. */
export function inflightFile(historyFile: string): string {
  return `${historyFile}.inflight.json`;
}

/**
 * Under the repo lock: a marker left by an earlier cycle means its Controller died mid-cycle
 * (SECURITY 7) — record it as ABORTED — then mark this cycle as in flight. This does not depend on
 * who reaped the orphaned container (any Controller on the engine may have).
 */
export async function beginRecord(historyFile: string, plan: Plan): Promise<void> {
  const marker = inflightFile(historyFile);
  let previous: { runId?: unknown; ticketId?: unknown } | undefined;
  try {
    previous = JSON.parse(fs.readFileSync(marker, 'utf8')) as { runId?: unknown; ticketId?: unknown };
  } catch {
    previous = undefined; // no marker (or an unreadable one: nothing reliable to record)
  }
  if (previous && typeof previous.runId === 'string' && previous.runId !== plan.run_id) {
    await appendHistory(historyFile, { runId: previous.runId, ticketId: typeof previous.ticketId === 'string' ? previous.ticketId : '', status: 'ABORTED', endedAt: new Date().toISOString(), costUsd: 0, reason: 'the Controller stopped mid-cycle' });
  }
  fs.mkdirSync(path.dirname(marker), { recursive: true });
  await atomicWrite(marker, JSON.stringify({ runId: plan.run_id, ticketId: plan.ticket_id, owner: ownerTag(), startedAt: new Date().toISOString() }) + '\n');
}

/**
 * Record a finished sandbox run in `historyFile` (an ERROR as ABORTED; nothing when the staging
 * copy was never made) and remove this run's in-flight marker — only our own: after a lock
 * refusal the marker is the other Controller's.
 */
export async function endRecord(historyFile: string | undefined, report: SandboxReport, agent: string, markerWritten: boolean): Promise<void> {
  if (!historyFile) return;
  if (report.baseCommit) {
    await appendHistory(historyFile, { runId: report.runId, ticketId: report.ticketId, status: report.status === 'ERROR' ? 'ABORTED' : report.status, endedAt: new Date().toISOString(), costUsd: report.result?.cost_estimate_usd ?? 0, agent, reasons: report.reasons, applied: report.applied });
  }
  if (markerWritten) fs.rmSync(inflightFile(historyFile), { force: true });
}
