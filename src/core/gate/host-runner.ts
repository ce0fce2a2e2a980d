import { spawn, execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { DEFAULT_OUTPUT_CAP, TailBuffer, type CommandOutcome, type CommandSpec, type StageRunner } from './stage-runner';

const execFileAsync = promisify(execFile);

/**
 * Host variables a gate command may see. Everything else (notably API keys, which the CLI keeps in
 * its environment) is withheld: the Gate runs project code, and project code has no business
 * reading the Controller's secrets.
 */
const PASSED_ENV = /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|LC_[A-Z]+|TZ|TMPDIR|TERM|PYENV_[A-Z_]+|VIRTUAL_ENV|CONDA_[A-Z_]+|NODE_PATH|NVM_[A-Z_]+|JAVA_HOME|GOPATH|GOROOT|CARGO_HOME|RUSTUP_HOME)$/;

/** The environment a host gate command gets: the allowlisted host variables plus `extra`. */
export function gateEnv(extra: Record<string, string> = {}, from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(from)) if (v !== undefined && PASSED_ENV.test(k)) env[k] = v;
  // Gate output is parsed, so keep it free of colour codes and progress bars.
  env.CI = 'true';
  env.NO_COLOR = '1';
  env.PYTHONDONTWRITEBYTECODE = '1';
  return { ...env, ...extra };
}

export interface HostRunnerOptions {
  /** The tree the commands run in (their working directory). */
  cwd: string;
  outputCap?: number;
  /** Time between SIGTERM and SIGKILL of the process group on timeout or abort. */
  killGraceMs?: number;
}

/**
 * `gate.runIn: "host"`: each command is a child process in its own process group, so a timeout or
 * an abort kills the whole tree it spawned (pytest workers, node children), not just the leader.
 */
export class HostRunner implements StageRunner {
  readonly kind = 'host' as const;
  private identityCache: Promise<string> | undefined;

  constructor(private readonly opts: HostRunnerOptions) {}

  identity(): Promise<string> {
    // The toolchain is part of what a PASS means: a cached PASS from another Python is not reused.
    this.identityCache ??= (async () => {
      const parts = [`host`, `node ${process.version}`];
      try {
        const { stdout, stderr } = await execFileAsync('python3', ['--version'], { timeout: 5000, env: gateEnv() });
        parts.push((stdout || stderr).trim());
      } catch {
        parts.push('python3 absent');
      }
      return parts.join('; ');
    })();
    return this.identityCache;
  }

  run(spec: CommandSpec, signal?: AbortSignal): Promise<CommandOutcome> {
    const started = performance.now();
    const buf = new TailBuffer(this.opts.outputCap ?? DEFAULT_OUTPUT_CAP);
    const grace = this.opts.killGraceMs ?? 2000;
    return new Promise<CommandOutcome>((resolve) => {
      const [program, ...args] = spec.argv;
      if (!program) {
        resolve({ exitCode: null, timedOut: false, aborted: false, startError: 'empty command', durationMs: 0, output: '', truncated: false });
        return;
      }
      if (signal?.aborted) {
        resolve({ exitCode: null, timedOut: false, aborted: true, durationMs: 0, output: '', truncated: false });
        return;
      }
      const child = spawn(program, args, {
        cwd: this.opts.cwd,
        env: gateEnv(spec.env),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let timedOut = false;
      let aborted = false;
      let startError: string | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      const killGroup = (sig: NodeJS.Signals) => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, sig);
        } catch {
          /* already gone */
        }
      };
      const stop = () => {
        killGroup('SIGTERM');
        killTimer ??= setTimeout(() => killGroup('SIGKILL'), grace);
      };
      const timer = setTimeout(() => {
        timedOut = true;
        stop();
      }, spec.timeoutMs);
      const onAbort = () => {
        aborted = true;
        stop();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const onData = (c: Buffer) => {
        buf.push(c);
        spec.onOutput?.(c);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('error', (err) => {
        startError = err.message;
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        // Children that outlived the leader (daemonised test servers) go with the group.
        killGroup('SIGKILL');
        signal?.removeEventListener('abort', onAbort);
        resolve({
          exitCode: timedOut || aborted ? null : code,
          timedOut,
          aborted,
          ...(startError ? { startError } : {}),
          durationMs: performance.now() - started,
          output: buf.text(),
          truncated: buf.truncated,
        });
      });
    });
  }
}
