import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import lockfile from 'proper-lockfile';
import { FactoryError, errorMessage } from '../util/errors';
import { nullLogger, type Logger } from '../util/log';

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
 * Take the repository's cycle lock (SECURITY 27): exactly one Controller runs a cycle on a repo.
 * proper-lockfile keeps the lock fresh while we live; a crashed holder stops refreshing it, so
 * after `staleMs` it is stale and the next Controller takes it over. Fails at once (no waiting)
 * with a FactoryError when another live Controller holds it.
 */
export async function acquireRepoLock(root: string, opts: RepoLockOptions = {}): Promise<RepoLock> {
  const logger = opts.logger ?? nullLogger;
  const stale = Math.max(2_000, opts.staleMs ?? 30_000);
  const target = repoLockPath(root);
  let compromised = false;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(target, {
      realpath: false,
      stale,
      update: Math.max(1_000, Math.floor(stale / 3)),
      retries: 0,
      onCompromised: (err) => {
        compromised = true;
        logger.error(`repo lock lost: ${err.message}`);
      },
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new FactoryError(`another Controller is running a cycle on ${root} (lock ${target}.lock); try again when it finishes`, 'locked');
    }
    throw new FactoryError(`cannot take the repo lock ${target}.lock: ${errorMessage(err)}`, 'lock-failed');
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
      try {
        await release();
      } catch (err) {
        if (!compromised) logger.warn(`releasing the repo lock: ${errorMessage(err)}`);
      }
    },
  };
}
