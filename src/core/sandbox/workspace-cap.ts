import * as fs from 'node:fs';
import * as path from 'node:path';
import { snapshotBytes, type Snapshot } from '../changeset/snapshot';

export interface WorkspaceWatch {
  /** True once the tree grew past the cap (the `onOver` callback has run). */
  readonly over: boolean;
  /**
   * Over the cap, by the watchdog's polls or by the snapshot taken after the Worker exited (a
   * Worker that wrote past the cap between two polls and exited is caught here).
   */
  exceeded(after: Snapshot): boolean;
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

/**
 * The workspace growth cap: a bind mount has no size limit of its own — on a disk or on a tmpfs
 * in RAM (staging-root.ts) — and RLIMIT_FSIZE caps single files only, so this watchdog calls
 * `onOver` (which stops the Worker) when the tree holds more than `baseBytes` plus `growthMb`.
 *
 * Each poll first asks the file system how much it holds in all (statfs). The workspace cannot
 * have grown by more than the whole file system has, so while that growth is under the
 * allowance there is nothing to walk; only past it is the tree itself walked and counted. A
 * Worker filling the tree is seen within one poll (50 ms), and a quiet one costs one system call
 * per poll instead of an lstat of every file competing with it for the CPU. (Another process
 * freeing space on the same file system meanwhile could hide part of the growth from the
 * pre-check; the after-snapshot verdict, `exceeded`, counts the tree itself.) Walks yield to the
 * event loop and take no more than a quarter of the time. A Worker may overshoot by what it
 * writes in one interval.
 */
export function watchWorkspace(dir: string, opts: { baseBytes: number; growthMb: number; onOver: () => void; fsUsed?: (dir: string) => number }): WorkspaceWatch {
  const growth = opts.growthMb * 1024 * 1024;
  const cap = opts.baseBytes + growth;
  const usedOf = opts.fsUsed ?? fsUsedBytes;
  let fsBase: number | undefined;
  try {
    fsBase = usedOf(dir);
  } catch {
    fsBase = undefined; // no statfs here: every poll walks
  }
  let over = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const check = async () => {
    if (stopped) return;
    if (fsBase !== undefined) {
      try {
        if (usedOf(dir) - fsBase <= growth) {
          timer = setTimeout(() => void check(), 50);
          return;
        }
      } catch {
        /* walk */
      }
    }
    const t = Date.now();
    const bytes = await treeBytesYielding(dir, cap, () => stopped);
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
    exceeded: (after) => over || snapshotBytes(after) > cap,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
