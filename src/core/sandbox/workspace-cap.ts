import * as fs from 'node:fs';
import * as path from 'node:path';
import { snapshotBytes, type Snapshot } from '../changeset/snapshot';

export interface WorkspaceWatch {
  /** True once the tree grew past the cap (the `onOver` callback has run). */
  readonly over: boolean;
  /**
   * Over the cap, by the watchdog's polls or by the snapshot taken after the Worker exited plus
   * what the other writable folders hold now (a Worker that wrote past the cap between two polls
   * and exited is caught here).
   */
  exceeded(after: Snapshot): Promise<boolean>;
  stop(): void;
}

/** Entries walked between two yields to the event loop. */
const SLICE = 256;

/**
 * Bytes allocated under `root` (lstat, never following links), stopping early past `stopAbove`.
 * It yields to the event loop every few hundred entries: the Controller's gateway and the
 * container's output stream keep running while a large tree is walked.
 */
export async function treeBytesYielding(root: string, stopAbove: number, stopped: () => boolean): Promise<number> {
  let total = 0;
  let n = 0;
  const stack = [root];
  while (stack.length) {
    const dir = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue; // deleted while we walked: the Worker is still running
    }
    for (const d of entries) {
      const abs = path.join(dir, d.name);
      try {
        const st = fs.lstatSync(abs);
        total += st.blocks * 512;
        if (st.isDirectory()) stack.push(abs);
      } catch {
        /* deleted while we walked */
      }
      if (total > stopAbove) return total;
      if (++n % SLICE === 0) {
        await new Promise((r) => setImmediate(r));
        if (stopped()) return total;
      }
    }
  }
  return total;
}

/** Bytes in use on the file system holding `dir` (statfs: one system call, no walk). */
export function fsUsedBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return (s.blocks - s.bfree) * s.bsize;
}

/** The file systems under `dirs`, one folder each (statfs counts a whole file system once). */
function distinctFileSystems(dirs: readonly string[]): string[] {
  const seen = new Map<number, string>();
  for (const d of dirs) {
    try {
      const dev = fs.statSync(d).dev;
      if (!seen.has(dev)) seen.set(dev, d);
    } catch {
      /* gone: nothing to count there */
    }
  }
  return [...seen.values()];
}

/**
 * The workspace growth cap: a bind mount has no size limit of its own — on a disk or on a tmpfs
 * in RAM (staging-root.ts) — and RLIMIT_FSIZE caps single files only, so this watchdog calls
 * `onOver` (which stops the Worker) when the workspace and every other host folder the Worker
 * may write (`extraDirs`: its output folder, the agent's log folder) hold more than `baseBytes`
 * plus `growthMb` together.
 *
 * Each poll first asks the file systems how much they hold in all (statfs). The folders cannot
 * have grown by more than their file systems have, so while that growth is under the allowance
 * there is nothing to walk; only past it are the folders themselves walked and counted. A Worker
 * filling them is seen within one poll (50 ms), and a quiet one costs a system call per file
 * system per poll instead of an lstat of every file competing with it for the CPU. (Another
 * process freeing space on the same file system meanwhile could hide part of the growth from the
 * pre-check; the verdict after the run, `exceeded`, counts the folders themselves.) Walks yield to
 * the event loop and take no more than a quarter of the time. A Worker may overshoot by what it
 * writes in one interval.
 */
export async function watchWorkspace(
  dir: string,
  opts: { baseBytes: number; growthMb: number; onOver: () => void; extraDirs?: readonly string[]; fsUsed?: (dir: string) => number },
): Promise<WorkspaceWatch> {
  const extra = opts.extraDirs ?? [];
  const growth = opts.growthMb * 1024 * 1024;
  // What the other folders hold before the Worker starts (the prompt, the task: a few KiB).
  let extraBase = 0;
  for (const d of extra) extraBase += await treeBytesYielding(d, Infinity, () => false);
  const cap = opts.baseBytes + extraBase + growth;
  const usedOf = opts.fsUsed ?? fsUsedBytes;
  const filesystems = distinctFileSystems([dir, ...extra]);
  const fsUsedNow = () => filesystems.reduce((sum, d) => sum + usedOf(d), 0);
  let fsBase: number | undefined;
  try {
    fsBase = fsUsedNow();
  } catch {
    fsBase = undefined; // no statfs here: every poll walks
  }
  const treeBytes = async (stopAbove: number, stopped: () => boolean) => {
    let total = 0;
    for (const d of [dir, ...extra]) {
      total += await treeBytesYielding(d, stopAbove - total, stopped);
      if (total > stopAbove || stopped()) break;
    }
    return total;
  };
  let over = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const check = async () => {
    if (stopped) return;
    if (fsBase !== undefined) {
      try {
        if (fsUsedNow() - fsBase <= growth) {
          timer = setTimeout(() => void check(), 50);
          return;
        }
      } catch {
        /* walk */
      }
    }
    const t = Date.now();
    const bytes = await treeBytes(cap, () => stopped);
    if (stopped) return;
    if (bytes > cap) {
      over = true;
      opts.onOver();
      return;
    }
    timer = setTimeout(() => void check(), Math.max(100, 3 * (Date.now() - t)));
  };
  timer = setTimeout(() => void check(), 50);
  return {
    get over() {
      return over;
    },
    async exceeded(after) {
      if (over) return true;
      let total = snapshotBytes(after);
      for (const d of extra) total += await treeBytesYielding(d, cap - total, () => false);
      return total > cap;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
