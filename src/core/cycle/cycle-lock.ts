/**
 * The cycle's repo lock (SECURITY 27: one Controller per repo, however many cycles it has in
 * flight): taken before anything else, with the refusal explained by the cycles it left behind.
 */
import type { FactoryConfig } from '../config/schema';
import { acquireRepoLock, type RepoLock } from '../lock/repo-lock';
import { localOwnerPid } from '../sandbox/container-spec';
import { FactoryError } from '../util/errors';
import type { Logger } from '../util/log';
import { listCycleStates, type CycleState } from './cycle-state';
import type { CycleOptions } from './cycle-types';
import { clearStopRequests, pendingStops } from './stop-requests';

/**
 * Take the repo lock for a run (serial or parallel) of `root`; a dead holder of this host is taken
 * over at once (repo-lock.ts). Stop requests nobody took are removed once it is ours.
 * @throws FactoryError `locked` (exit 3) when another Controller holds it, naming its runs.
 */
export async function takeCycleLock(root: string, config: FactoryConfig, opts: Pick<CycleOptions, 'lockStaleMs'>, log: Logger): Promise<RepoLock> {
  let lock: RepoLock;
  try {
    lock = await acquireRepoLock(root, { ...(opts.lockStaleMs ? { staleMs: opts.lockStaleMs } : {}), logger: log });
  } catch (err) {
    const states = listCycleStates(root, config.paths.autopilot).map((s) => s.state);
    throw explainLocked(err, states, opts.lockStaleMs ?? 30_000);
  }
  // Requests left for the cycles of a Controller that is gone: recovery ends those cycles anyway.
  const stale = pendingStops(root, config.paths.autopilot);
  if (stale.length) {
    clearStopRequests(root, config.paths.autopilot);
    log.info(`removed ${stale.length} stop request(s) nobody took: ${stale.join(', ')}`);
  }
  return lock;
}

/**
 * "Another Controller is running" names what it runs (each cycle in flight and its phase) when
 * its owner lives on this host. A dead owner's lock is taken over at once (repo-lock.ts) unless
 * it carries no owner record (a Controller of an older version, a crash right after taking it):
 * then it goes stale within `staleMs` — say so, with the runs it left behind.
 */
export function explainLocked(err: unknown, states: readonly CycleState[], staleMs: number): unknown {
  if (!(err instanceof FactoryError) || err.code !== 'locked' || !states.length) return err;
  const pid = localOwnerPid(states[0].owner);
  if (pid === null) return err;
  const runs = states.map((s) => `run ${s.runId} in ${s.phase}`).join(', ');
  try {
    process.kill(pid, 0);
    return new FactoryError(`${err.message} (pid ${pid}, ${runs})`, 'locked');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPERM') return err;
  }
  return new FactoryError(
    `the Controller (pid ${pid}) stopped with ${runs}; its repo lock goes stale within ${Math.round(staleMs / 1000)} s — run again then, and each interrupted cycle is finished or recorded ABORTED`,
    'locked',
  );
}
