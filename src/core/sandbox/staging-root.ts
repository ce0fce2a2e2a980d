import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Where staging copies live. A staging copy is written once (`git archive | tar -x`), walked
 * twice (snapshots), mounted into the Worker and the Gate containers, and deleted: work a RAM
 * file system does in a fraction of the time a disk takes (10,000 files: ≈ 0.1 s into tmpfs
 * against 2–6 s onto this project's CI disk). So a copy goes to `/dev/shm` when it is a writable,
 * executable tmpfs with room for the tree plus the Worker's growth allowance, and the machine has
 * that much memory to spare on top of the Worker's own memory limit; otherwise to the temp folder.
 * `FACTORY_STAGING_DIR` (the user's environment, never repository configuration) pins the root.
 */

/** Linux's tmpfs magic number (statfs f_type). */
const TMPFS_MAGIC = 0x01021994;
/** Memory left untouched for everything else on the machine (MiB). */
const RESERVE_MB = 512;

export interface StagingRootChoice {
  /** The folder staging copies are created in. */
  root: string;
  kind: 'override' | 'tmpfs' | 'tmpdir';
  /** Why this root, in words (for logs and `factory dry`). */
  reason: string;
  /**
   * tmpfs only: the most the exported tree may take there (bytes). The export counts as it
   * streams and falls back to the temp folder when the tree is larger — no pre-pass over the tree.
   */
  budgetBytes?: number;
}

export interface StagingNeed {
  /** The Worker's growth allowance (worker.workspaceMb). */
  workspaceMb: number;
  /** The Worker container's memory limit (worker.memoryMb): it competes for the same RAM. */
  memoryMb: number;
}

/** Hooks for tests: the machine's facts. */
export interface MachineFacts {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  tmpdir: string;
  /** The RAM file system to try (`/dev/shm`). */
  shm: string;
  /** statfs of a path, or undefined when it does not exist. */
  statfs(p: string): { type: number; bavail: number; bsize: number } | undefined;
  /** Mount options of the mount at `p` (from /proc/self/mounts), or undefined. */
  mountOptions(p: string): string[] | undefined;
  freeMemBytes(): number;
  writable(p: string): boolean;
}

const MIB = 1024 * 1024;

export const realMachine: MachineFacts = {
  env: process.env,
  platform: process.platform,
  get tmpdir() {
    return os.tmpdir();
  },
  shm: '/dev/shm',
  statfs(p) {
    try {
      const s = fs.statfsSync(p);
      return { type: Number(s.type), bavail: Number(s.bavail), bsize: Number(s.bsize) };
    } catch {
      return undefined;
    }
  },
  mountOptions(p) {
    try {
      const lines = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n');
      // The last matching line is the mount on top.
      let opts: string[] | undefined;
      for (const l of lines) {
        const f = l.split(' ');
        if (f[1] === p) opts = (f[3] ?? '').split(',');
      }
      return opts;
    } catch {
      return undefined;
    }
  },
  freeMemBytes: () => os.freemem(),
  writable(p) {
    try {
      fs.accessSync(p, fs.constants.W_OK | fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  },
};

/** Below this much room for the tree itself, RAM is not worth trying. */
const MIN_BUDGET = 16 * 1024 * 1024;

/** Pick the root for a staging copy (see the top of this file). */
export function chooseStagingRoot(need: StagingNeed, m: MachineFacts = realMachine): StagingRootChoice {
  const override = m.env.FACTORY_STAGING_DIR?.trim();
  if (override) return { root: path.resolve(override), kind: 'override', reason: 'FACTORY_STAGING_DIR' };
  const tmp = { root: path.resolve(m.tmpdir), kind: 'tmpdir' as const };
  const SHM = m.shm;
  if (m.platform !== 'linux') return { ...tmp, reason: `no ${SHM} on ${m.platform}` };
  const st = m.statfs(SHM);
  if (!st || st.type !== TMPFS_MAGIC) return { ...tmp, reason: `${SHM} is not a tmpfs` };
  const opts = m.mountOptions(SHM) ?? [];
  if (opts.includes('noexec')) return { ...tmp, reason: `${SHM} is mounted noexec (the Worker's scripts could not run)` };
  if (!m.writable(SHM)) return { ...tmp, reason: `${SHM} is not writable` };
  // Room for the tree = what is free, less the Worker's growth allowance, its memory limit and a reserve.
  const growth = need.workspaceMb * MIB;
  const byShm = st.bavail * st.bsize - growth - RESERVE_MB * MIB;
  const byMem = m.freeMemBytes() - growth - need.memoryMb * MIB - RESERVE_MB * MIB;
  const budget = Math.min(byShm, byMem);
  if (budget < MIN_BUDGET) {
    return { ...tmp, reason: byShm <= byMem ? `${SHM} has no room for the copy and its ${need.workspaceMb} MiB growth allowance` : `too little free memory for a copy in RAM next to the Worker's ${need.memoryMb} MiB` };
  }
  return { root: SHM, kind: 'tmpfs', reason: `up to ${mb(budget)} of tree fits in RAM`, budgetBytes: budget };
}

function mb(bytes: number): string {
  return `${Math.round(bytes / MIB)} MiB`;
}

type RootFacts = Pick<MachineFacts, 'env' | 'tmpdir' | 'platform' | 'shm'>;

/**
 * Every folder a staging copy (or another `factory-*` temp folder) of ours may sit in: the only
 * places a folder may be deleted on the word of a container label or a persisted cycle state.
 */
export function stagingRoots(m: RootFacts = realMachine): string[] {
  const roots = [path.resolve(m.tmpdir)];
  if (m.platform === 'linux') roots.push(path.resolve(m.shm));
  const override = m.env.FACTORY_STAGING_DIR?.trim();
  if (override) roots.push(path.resolve(override));
  return [...new Set(roots)];
}

/** Only folders we create (`<staging root>/factory-…`) may be deleted on the word of a label or a state file. */
export function isOwnTempFolder(p: string, m?: RootFacts): boolean {
  const abs = path.resolve(p);
  return path.basename(abs).startsWith('factory-') && stagingRoots(m).includes(path.dirname(abs));
}
