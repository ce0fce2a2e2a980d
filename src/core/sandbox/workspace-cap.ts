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

/**
 * The workspace growth cap: a bind mount has no size limit of its own — on a disk or on a tmpfs
 * in RAM (staging-root.ts) — and RLIMIT_FSIZE caps single files only, so this watchdog walks the
 * tree and calls `onOver` (which stops the Worker) when it holds more than `baseBytes` plus
 * `growthMb`. It polls as often as the tree allows: every 100 ms on small trees, never spending
 * more than a quarter of the time walking. A Worker may overshoot by what it writes in one interval.
 */
export function watchWorkspace(dir: string, opts: { baseBytes: number; growthMb: number; onOver: () => void }): WorkspaceWatch {
  const cap = opts.baseBytes + opts.growthMb * 1024 * 1024;
  let over = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const check = async () => {
    if (stopped) return;
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
  timer = setTimeout(() => void check(), 100);
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
