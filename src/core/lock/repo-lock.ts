import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import lockfile from 'proper-lockfile';
import { FactoryError, errorMessage } from '../util/errors';
import { nullLogger, type Logger } from '../util/log';
import { currentOwner, deadOwnerReason, lockId, readLockOwner, writeLockOwner } from './lock-owner';

/** A held repo lock. `release()` is idempotent; `compromised` turns true if the lock was lost. */
export interface RepoLock {
  readonly path: string;
  readonly compromised: boolean;
  release(): Promise<void>;
}

export interface RepoLockOptions {
  /** A lock whose holder stopped refreshing it for this long is stale and may be taken (≥ 2000). */
  staleMs?: number;
  logger?: Logger;
}

/**
 * Where a repository's cycle lock lives: inside its `.git` folder (never a tracked path, never
 * seen by the Worker), or — for a folder that is not a plain git checkout — a temp-dir file keyed
 * by the folder's real path. Every Controller (window or CLI) computes the same path.
 */
export function repoLockPath(root: string): string {
  const real = fs.realpathSync(root);
  const dotGit = path.join(real, '.git');
  try {
    if (fs.lstatSync(dotGit).isDirectory()) return path.join(dotGit, 'factory-cycle');
  } catch {
    // no .git folder
  }
  const key = crypto.createHash('sha256').update(real).digest('hex').slice(0, 16);
  return path.join(os.tmpdir(), `factory-lock-${key}`);
}

/**
 * Take the repository's cycle lock (SECURITY 27): exactly one Controller runs cycles on a repo.
 * proper-lockfile keeps the lock fresh while we live, and the owner record next to it
 * (lock-owner.ts) says who we are. A holder that died on this host (its pid gone, a zombie, or
 * reused by another process) is taken over at once, and the log says so; any other holder's lock
 * is taken only once it stopped being refreshed for `staleMs`. Fails at once (no waiting) with a
 * FactoryError when another live Controller (or one on another host) holds it.
 */
export async function acquireRepoLock(root: string, opts: RepoLockOptions = {}): Promise<RepoLock> {
  const logger = opts.logger ?? nullLogger;
  const stale = Math.max(2_000, opts.staleMs ?? 30_000);
  const target = repoLockPath(root);
  const ownerFile = `${target}.owner`;
  let compromised = false;
  const lockOptions = {
    realpath: false,
    stale,
    update: Math.max(1_000, Math.floor(stale / 3)),
    retries: 0,
    onCompromised: (err: Error) => {
      compromised = true;
      logger.error(`repo lock lost: ${err.message}`);
    },
  };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(target, lockOptions).catch(async (err: unknown) => {
      const taken = (err as NodeJS.ErrnoException).code === 'ELOCKED' ? await takeOverDead(target, ownerFile, () => lockfile.lock(target, lockOptions), logger) : null;
      if (!taken) throw err;
      return taken;
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new FactoryError(`another Controller is running a cycle on ${root} (lock ${target}.lock); try again when it finishes`, 'locked');
    }
    throw new FactoryError(`cannot take the repo lock ${target}.lock: ${errorMessage(err)}`, 'lock-failed');
  }
  const me = { ...currentOwner(), ...optional('lock', lockId(`${target}.lock`)) };
  try {
    await writeLockOwner(ownerFile, me);
  } catch (err) {
    logger.warn(`could not record the repo lock's owner in ${ownerFile} (a crash of this Controller then leaves the lock to go stale): ${errorMessage(err)}`);
  }
  let released = false;
  return {
    path: `${target}.lock`,
    get compromised() {
      return compromised;
    },
    async release() {
      if (released) return;
      released = true;
      // Our record goes first: a record without its lock is harmless, a lock without its record only waits to go stale.
      if (!compromised && readLockOwner(ownerFile)?.at === me.at) fs.rmSync(ownerFile, { force: true });
      try {
        await release();
      } catch (err) {
        if (!compromised) logger.warn(`releasing the repo lock: ${errorMessage(err)}`);
      }
    },
  };
}

const optional = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> => (value === undefined ? {} : ({ [key]: value } as Record<K, V>));

/**
 * The lock is held: if its owner record names a process of this host that is gone, remove the
 * lock and take it (`lock()`), else null. One Controller at a time judges (a takeover guard
 * lock), re-reading the record under it, so two newcomers never both take over, and a record
 * that is not about the current lock folder (its holder exited, a new one has not written its
 * record yet) is never acted on.
 */
async function takeOverDead(target: string, ownerFile: string, lock: () => Promise<() => Promise<void>>, logger: Logger): Promise<(() => Promise<void>) | null> {
  const first = readLockOwner(ownerFile);
  if (!first || !deadOwnerReason(first)) return null;
  let unguard: () => Promise<void>;
  try {
    unguard = await lockfile.lock(`${target}-takeover`, { realpath: false, stale: 10_000, retries: 0 });
  } catch {
    return null; // another Controller is taking it over right now
  }
  try {
    const owner = readLockOwner(ownerFile);
    const why = owner && owner.at === first.at && owner.lock !== undefined && owner.lock === lockId(`${target}.lock`) ? deadOwnerReason(owner) : null;
    if (!owner || !why) return null;
    fs.rmSync(ownerFile, { force: true });
    fs.rmSync(`${target}.lock`, { recursive: true, force: true });
    const release = await lock().catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === 'ELOCKED') return null; // a newcomer got in between: it holds it now
      throw err;
    });
    if (release) logger.warn(`took over the repo lock ${target}.lock: its owner ${owner.owner} is gone (${why})`);
    return release;
  } finally {
    await unguard().catch(() => undefined);
  }
}
