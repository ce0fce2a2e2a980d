import { spawn } from 'node:child_process';
import * as fs from 'node:fs';

export interface SpawnOptions {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  stdinFile?: string;
  timeoutMs?: number;
  onStdout?: (chunk: string) => void;
  /** Raw output files (appended). */
  stdoutFile?: string;
  stderrFile?: string;
}

export interface SpawnResult {
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Last 8 KiB of stderr. */
  stderrTail: string;
  durationMs: number;
  /** Set when the program could not be started at all (ENOENT…). */
  spawnError?: string;
}

const TAIL = 8 * 1024;

/**
 * Run one program to completion in its own process group (so a time-cap kill takes its children
 * too), stdout streamed to the caller as text, stderr kept as a tail.
 */
export function runProcess(o: SpawnOptions): Promise<SpawnResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const stdin = o.stdinFile ? fs.openSync(o.stdinFile, 'r') : 'ignore';
    const out = o.stdoutFile ? fs.createWriteStream(o.stdoutFile, { flags: 'a', mode: 0o644 }) : undefined;
    const err = o.stderrFile ? fs.createWriteStream(o.stderrFile, { flags: 'a', mode: 0o644 }) : undefined;
    let tail = '';
    let timedOut = false;
    let settled = false;
    const child = spawn(o.argv[0], o.argv.slice(1), { cwd: o.cwd, env: o.env, stdio: [stdin, 'pipe', 'pipe'], detached: true });
    if (typeof stdin === 'number') fs.closeSync(stdin);
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        /* already gone */
      }
    };
    let timer: NodeJS.Timeout | undefined;
    if (o.timeoutMs) {
      timer = setTimeout(() => {
        timedOut = true;
        killGroup('SIGTERM');
        setTimeout(() => killGroup('SIGKILL'), 5_000).unref();
      }, o.timeoutMs);
    }
    // stdio is [fd|ignore, pipe, pipe]: both output streams exist.
    const { stdout, stderr } = child as unknown as { stdout: NodeJS.ReadableStream; stderr: NodeJS.ReadableStream };
    stdout.setEncoding('utf8');
    stdout.on('data', (c: string) => {
      out?.write(c);
      o.onStdout?.(c);
    });
    stderr.setEncoding('utf8');
    stderr.on('data', (c: string) => {
      err?.write(c);
      tail = (tail + c).slice(-TAIL);
    });
    const finish = (r: Omit<SpawnResult, 'durationMs' | 'stderrTail' | 'timedOut'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Orphaned grandchildren must not outlive the agent.
      killGroup('SIGKILL');
      out?.end();
      err?.end();
      resolve({ ...r, timedOut, stderrTail: tail, durationMs: Date.now() - t0 });
    };
    child.on('error', (e) => finish({ code: null, signal: null, spawnError: e.message }));
    child.on('close', (code, signal) => finish({ code, signal }));
  });
}
