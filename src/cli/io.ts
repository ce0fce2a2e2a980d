import type { Logger, ProgressSink } from '../core/util/log';
import { FactoryError, errorMessage } from '../core/util/errors';

/** Options every command understands. */
export interface GlobalOptions {
  root: string;
  json?: boolean;
  verbose?: boolean;
}

/** A Logger that writes to stderr (stdout is reserved for the command's result). */
export function stderrLogger(verbose: boolean): Logger {
  const write = (level: string, message: string | Error, args: unknown[]) => {
    const text = message instanceof Error ? message.stack ?? message.message : message;
    process.stderr.write(`[${level}] ${text}${args.length ? ' ' + args.map((a) => JSON.stringify(a)).join(' ') : ''}\n`);
  };
  return {
    trace: (m, ...a) => { if (verbose) write('trace', m, a); },
    debug: (m, ...a) => { if (verbose) write('debug', m, a); },
    info: (m, ...a) => { if (verbose) write('info', m, a); },
    warn: (m, ...a) => write('warn', m, a),
    error: (m, ...a) => write('error', m, a),
  };
}

/** Progress as a single line on stderr, only when stderr is a terminal. */
export function stderrProgress(): ProgressSink {
  return ({ step, maxStep, message }) => {
    if (process.stderr.isTTY) process.stderr.write(`\r[${step}/${maxStep}] ${message}\x1b[K`);
  };
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/**
 * Run a command body: a FactoryError becomes one line on stderr and its exit code; anything else
 * is a bug and prints its stack with exit code 1. Ctrl-C aborts the signal handed to the body.
 */
export async function runCommand(body: (signal: AbortSignal) => Promise<number | void>): Promise<void> {
  const controller = new AbortController();
  const onSigint = () => controller.abort(new FactoryError('interrupted', 'interrupted'));
  // `on`, not `once`: signal-exit (used by proper-lockfile's repo lock) re-raises a signal when its
  // own handler is the last one listening, which killed the process before the abort could clean
  // up (stop the Worker, record ABORTED, release the lock). The finally below removes these.
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    const code = await body(controller.signal);
    process.exitCode = code ?? 0;
  } catch (err) {
    if (err instanceof FactoryError) {
      process.stderr.write(`factory: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(`factory: internal error: ${errorMessage(err)}\n${err instanceof Error ? err.stack ?? '' : ''}\n`);
      process.exitCode = 1;
    }
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
