import { treeBytes } from '../changeset/snapshot';

export interface WorkspaceWatch {
  /** True once the tree grew past the cap (the `onOver` callback has run). */
  readonly over: boolean;
  /** The cap in bytes: base + growth allowance. A Worker that exits between two polls is judged on the after snapshot against it. */
  readonly capBytes: number;
  stop(): void;
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
  const check = () => {
    if (stopped) return;
    const t = Date.now();
    if (treeBytes(dir, cap) > cap) {
      over = true;
      opts.onOver();
      return;
    }
    timer = setTimeout(check, Math.max(100, 3 * (Date.now() - t)));
  };
  timer = setTimeout(check, 100);
  return {
    get over() {
      return over;
    },
    capBytes: cap,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
