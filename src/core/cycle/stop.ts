import * as os from 'node:os';
import type Docker from 'dockerode';
import type { FactoryConfig } from '../config/schema';
import { connectDocker } from '../docker/connect';
import { LABELS } from '../sandbox/container-spec';
import { readCycleState } from './cycle-state';
import { cyclePaths } from './orchestrator';

/** What `stopCycle` found and did (`factory stop --json`, "Factory: Stop Worker"). */
export interface StopResult {
  runId: string | null;
  ticketId: string | null;
  phase: string | null;
  /** The Controller process that runs the cycle was sent SIGTERM. */
  signalled: boolean;
  /** The Controller finished the cycle (recorded ABORTED) within the wait. */
  finished: boolean;
  /** Containers of the run removed because their Controller did not finish in time. */
  containersRemoved: number;
}

/**
 * Stop the cycle in flight on `root`, whoever runs it. The Controller named in the cycle state
 * (this host, a live pid) gets SIGTERM, so it stops its Worker, records the cycle ABORTED and
 * releases the lock; if it is gone or does not finish within `waitMs`, the run's labelled
 * containers are removed and the next start records the cycle ABORTED.
 * A Controller inside this very process is not signalled (its owner aborts it directly).
 */
export async function stopCycle(root: string, config: FactoryConfig, opts: { waitMs?: number; docker?: Docker; signal?: AbortSignal } = {}): Promise<StopResult> {
  const p = cyclePaths(root, config);
  const st = readCycleState(p.state);
  const out: StopResult = { runId: st?.runId ?? null, ticketId: st?.ticketId ?? null, phase: st?.phase ?? null, signalled: false, finished: false, containersRemoved: 0 };
  if (!st) return out;
  const i = st.owner.lastIndexOf(':');
  const pid = Number(st.owner.slice(i + 1));
  if (st.owner.slice(0, i) === os.hostname() && Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
    try {
      process.kill(pid, 'SIGTERM');
      out.signalled = true;
    } catch {
      // the Controller is already gone
    }
  }
  const deadline = Date.now() + Math.max(0, opts.waitMs ?? 30_000);
  while (out.signalled && Date.now() < deadline && !opts.signal?.aborted && readCycleState(p.state)?.runId === st.runId) await new Promise((r) => setTimeout(r, 200));
  out.finished = readCycleState(p.state)?.runId !== st.runId;
  if (!out.finished) {
    const docker = opts.docker ?? (await connectDocker()).docker;
    const list = await docker.listContainers({ all: true, filters: { label: [`${LABELS.runId}=${st.runId}`] } });
    for (const c of list) {
      await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
      out.containersRemoved++;
    }
  }
  return out;
}
