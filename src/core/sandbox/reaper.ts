import * as fs from 'node:fs';
import * as os from 'node:os';
import type Docker from 'dockerode';
import { connectDocker } from '../docker/connect';
import { errorMessage } from '../util/errors';
import { nullLogger, type Logger } from '../util/log';
import { LABELS, pidAlive } from './container-spec';
import { ENGINE_CALL_MS, withTimeout } from './engine-calls';
import { isOwnTempFolder } from './staging-root';

/** A container the reaper removed. */
export interface ReapedContainer {
  containerId: string;
  runId: string;
  ticket: string;
  role: string;
  /** The `factory.repo` label ('' when the container carried none). */
  repo: string;
  reason: 'owner-gone' | 'overdue';
}

/**
 * Whether the Controller that labelled a container still runs: `dead` only when it is provably
 * gone (same host, no such pid); a Controller on another machine sharing a remote engine is
 * `unknown` and is left to its deadline.
 */
function ownerState(owner: string | undefined): 'alive' | 'dead' | 'unknown' {
  if (!owner) return 'dead';
  const i = owner.lastIndexOf(':');
  const host = owner.slice(0, i);
  const pid = Number(owner.slice(i + 1));
  if (host !== os.hostname()) return 'unknown';
  if (!Number.isInteger(pid) || pid <= 0) return 'dead';
  if (pid === process.pid) return 'alive';
  return pidAlive(pid) ? 'alive' : 'dead';
}

/**
 * Remove every Factory-labelled container whose owning Controller is gone (same host, pid not
 * running) or whose deadline has passed (SECURITY 7), and delete the staging folder it was labelled with (only when it is a
 * `factory-*` folder under the temp dir). Containers of a live Controller in time are left alone.
 * Returns what was reaped, so the caller can record those cycles as ABORTED.
 */
export async function reapOrphans(opts: { docker?: Docker; logger?: Logger; now?: number } = {}): Promise<ReapedContainer[]> {
  const logger = opts.logger ?? nullLogger;
  const docker = opts.docker ?? (await connectDocker()).docker;
  const now = opts.now ?? Date.now();
  const list = await withTimeout(docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=1`] } }), ENGINE_CALL_MS, 'list');
  const reaped: ReapedContainer[] = [];
  for (const c of list) {
    const labels = c.Labels ?? {};
    const deadline = Number(labels[LABELS.deadline] ?? 0);
    const owner = ownerState(labels[LABELS.owner]);
    const overdue = Number.isFinite(deadline) && deadline > 0 && now > deadline;
    if (owner !== 'dead' && !overdue) continue;
    try {
      await withTimeout(docker.getContainer(c.Id).remove({ force: true, v: true }), ENGINE_CALL_MS, 'remove');
    } catch (err) {
      if (!/no such container|already in progress/i.test(errorMessage(err))) {
        logger.warn(`reaper: cannot remove ${c.Id.slice(0, 12)}: ${errorMessage(err)}`);
        continue;
      }
    }
    const cleanup = labels[LABELS.cleanup];
    if (cleanup && isOwnTempFolder(cleanup)) fs.rmSync(cleanup, { recursive: true, force: true });
    logger.info(`reaper: removed orphan ${c.Id.slice(0, 12)} (run ${labels[LABELS.runId]}, ${owner === 'dead' ? 'owner gone' : 'overdue'})`);
    reaped.push({
      containerId: c.Id,
      runId: labels[LABELS.runId] ?? '',
      ticket: labels[LABELS.ticket] ?? '',
      role: labels[LABELS.role] ?? '',
      repo: labels[LABELS.repo] ?? '',
      reason: owner === 'dead' ? 'owner-gone' : 'overdue',
    });
  }
  return reaped;
}

