/** The run's network on the swarm: an internal overlay (no route out), joined only by the run's jobs and its relay. */
import type Docker from 'dockerode';
import { LABELS } from '../../sandbox/container-spec';
import { ENGINE_CALL_MS, withTimeout } from '../../sandbox/engine-calls';
import { FactoryError, errorMessage } from '../../util/errors';
import { isGone, runNetworkName, swarmLabels } from './names';

export interface RunNetwork {
  id: string;
  name: string;
  /** Remove the network (idempotent); waits while the run's tasks still let go of it. */
  remove(): Promise<void>;
}

/** How long `remove` retries a network still in use by tasks being torn down. */
const REMOVE_WAIT_MS = 30_000;

/**
 * Create the run's overlay network: `Internal` (the engine gives it no gateway: nothing on it
 * reaches outside the swarm), not attachable (no plain `docker run` can join it), labelled for
 * clean-up (managed, owner, run).
 */
export async function createRunNetwork(docker: Docker, runId: string, labels: Record<string, string>): Promise<RunNetwork> {
  const name = runNetworkName(runId);
  let id: string;
  try {
    const net = await withTimeout(
      docker.createNetwork({ Name: name, Driver: 'overlay', Internal: true, Attachable: false, CheckDuplicate: true, Labels: swarmLabels({ [LABELS.runId]: runId, ...labels }) }),
      ENGINE_CALL_MS,
      'network create',
    );
    id = net.id;
  } catch (err) {
    throw new FactoryError(`cannot create the run's overlay network ${name}: ${errorMessage(err)}`, 'swarm.unavailable');
  }
  let removed = false;
  return {
    id,
    name,
    async remove() {
      if (removed) return;
      await removeNetwork(docker, id);
      removed = true;
    },
  };
}

/** Remove a network, retrying while the engine says it is in use (its tasks' endpoints go shortly after their service). */
export async function removeNetwork(docker: Docker, id: string, waitMs = REMOVE_WAIT_MS): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await withTimeout(docker.getNetwork(id).remove(), ENGINE_CALL_MS, 'network remove');
      return;
    } catch (err) {
      if (isGone(err)) return;
      if (Date.now() > deadline) throw new FactoryError(`cannot remove the run network ${id.slice(0, 12)}: ${errorMessage(err)}`, 'swarm.job');
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
