import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_OUTPUT_CAP, TailBuffer, type CommandOutcome, type CommandSpec, type StageRunner } from './stage-runner';

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

/** `host; node v20.1.0; python3=/usr/bin/python3.11 (5.9 MB, mtime …)`: what PATH resolves each tool to. */
export function hostToolchain(tools: string[], pathVar: string): string {
  const parts = ['host', `node ${process.version}`];
  for (const tool of tools) {
    let found = `${tool} absent`;
    for (const dir of pathVar.split(path.delimiter).filter(Boolean)) {
      const candidate = path.join(dir, tool);
      try {
        const real = fs.realpathSync(candidate);
        const st = fs.statSync(real);
        if (!st.isFile()) continue;
        found = `${tool}=${real} (${st.size} B, mtime ${Math.round(st.mtimeMs)})`;
        break;
      } catch {
        /* not in this PATH entry */
      }
    }
    parts.push(found);
  }
  // Version managers switch the interpreter behind an unchanged shim: name what they select.
  const env = process.env;
  if (env.VIRTUAL_ENV) parts.push(`venv=${env.VIRTUAL_ENV}`);
  if (env.PYENV_VERSION) parts.push(`pyenv=${env.PYENV_VERSION}`);
  try {
    const pyenvRoot = env.PYENV_ROOT ?? path.join(os.homedir(), '.pyenv');
    parts.push(`pyenv global=${fs.readFileSync(path.join(pyenvRoot, 'version'), 'utf8').trim()}`);
  } catch {
    /* no pyenv */
  }
  return parts.join('; ');
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
    // The toolchain is part of what a PASS means: a cached PASS from another Python or Node is not
    // reused. Described by stat, not by running `python3 --version` (a pyenv shim costs ~100 ms);
    // a version switch that only a shim knows about is not seen (the container runner's image id
    // is exact).
    this.identityCache ??= Promise.resolve(hostToolchain(['python3', 'python', 'node', 'npm'], gateEnv().PATH ?? ''));
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
