/**
 * Orphans on the swarm: Factory services whose Controller is provably gone (same host, no such
 * pid) or whose deadline has passed, and networks and secrets of a gone Controller. Objects of a
 * Controller on another host are left to their deadline (a relay carries none: its network and
 * secrets stay until that Controller, or `docker service rm`, removes them).
 */
import type Docker from 'dockerode';
import { LABELS, localOwnerPid, pidAlive } from '../../sandbox/container-spec';
import { ENGINE_CALL_MS, withTimeout } from '../../sandbox/engine-calls';
import { errorMessage } from '../../util/errors';
import { nullLogger, type Logger } from '../../util/log';
import { isGone } from './names';

export interface ReapedSwarm {
  services: { id: string; name: string; runId: string; ticket: string; role: string; reason: 'owner-gone' | 'overdue' }[];
  networks: string[];
  secrets: string[];
}

/** Whether the Controller named by an owner tag is provably gone. */
function ownerGone(owner: string | undefined): boolean {
  if (!owner) return true;
  const pid = localOwnerPid(owner);
  if (pid === null) return false;
  return pid !== process.pid && !pidAlive(pid);
}

export async function reapSwarmOrphans(docker: Docker, opts: { logger?: Logger; now?: number } = {}): Promise<ReapedSwarm> {
  const logger = opts.logger ?? nullLogger;
  const now = opts.now ?? Date.now();
  const filters = { label: [`${LABELS.managed}=1`] };
  const out: ReapedSwarm = { services: [], networks: [], secrets: [] };
  const remove = async (what: string, id: string, call: () => Promise<unknown>): Promise<boolean> => {
    try {
      await withTimeout(call(), ENGINE_CALL_MS, `${what} remove`);
      return true;
    } catch (err) {
      if (isGone(err)) return true;
      logger.warn(`swarm reaper: cannot remove ${what} ${id.slice(0, 12)}: ${errorMessage(err)}`);
      return false;
    }
  };
  for (const s of await withTimeout(docker.listServices({ filters }), ENGINE_CALL_MS, 'service list')) {
    const labels = s.Spec?.Labels ?? {};
    const deadline = Number(labels[LABELS.deadline] ?? 0);
    const gone = ownerGone(labels[LABELS.owner]);
    const overdue = Number.isFinite(deadline) && deadline > 0 && now > deadline;
    if (!gone && !overdue) continue;
    if (!(await remove('service', s.ID, () => docker.getService(s.ID).remove()))) continue;
    logger.info(`swarm reaper: removed orphan service ${s.Spec?.Name ?? s.ID} (${gone ? 'owner gone' : 'overdue'})`);
    out.services.push({ id: s.ID, name: s.Spec?.Name ?? '', runId: labels[LABELS.runId] ?? '', ticket: labels[LABELS.ticket] ?? '', role: labels[LABELS.role] ?? '', reason: gone ? 'owner-gone' : 'overdue' });
  }
  for (const sec of await withTimeout(docker.listSecrets({ filters }), ENGINE_CALL_MS, 'secret list')) {
    if (ownerGone(sec.Spec?.Labels?.[LABELS.owner]) && (await remove('secret', sec.ID, () => docker.getSecret(sec.ID).remove()))) out.secrets.push(sec.ID);
  }
  for (const n of await withTimeout(docker.listNetworks({ filters }), ENGINE_CALL_MS, 'network list')) {
    if (ownerGone(n.Labels?.[LABELS.owner]) && (await remove('network', n.Id, () => docker.getNetwork(n.Id).remove()))) out.networks.push(n.Id);
  }
  return out;
}
