/**
 * Stopping ONE cycle of a parallel run (`factory stop --run/--ticket`): all cycles in flight live in
 * one Controller process, so a signal cannot pick one. A stop request is a file
 * `<autopilot>/stop_requests/<runId>` (written atomically; a Controller record, ignored by git);
 * the Controller watches the folder, aborts that cycle (its AbortController) and removes the request.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { atomicWrite } from '../util/atomic-write';
import { FactoryError } from '../util/errors';
import { ownerTag } from '../sandbox/container-spec';

/** The folder of stop requests, under the autopilot folder. */
export const STOP_REQUESTS_DIR = 'stop_requests';

/** A run id as a file name: the run id rules (no separator, no `..`, no leading dot). */
const RUN_FILE_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const validRunId = (runId: string) => RUN_FILE_RE.test(runId) && !runId.includes('..');

export function stopRequestsDir(root: string, autopilotDir: string): string {
  return path.join(root, autopilotDir, STOP_REQUESTS_DIR);
}

/** The request file of `runId`. @throws FactoryError `usage` for a string that is no run id. */
export function stopRequestFile(root: string, autopilotDir: string, runId: string): string {
  if (!validRunId(runId)) throw new FactoryError(`"${runId}" is not a run id (letters, digits, _ . -); see \`factory tail\` for the runs in flight`, 'usage');
  return path.join(stopRequestsDir(root, autopilotDir), runId);
}

/** Ask the Controller that runs `runId` to stop that cycle (atomic write; asking twice is harmless). */
export async function requestStop(root: string, autopilotDir: string, runId: string): Promise<string> {
  const file = stopRequestFile(root, autopilotDir, runId);
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await atomicWrite(file, JSON.stringify({ runId, at: new Date().toISOString(), by: ownerTag() }) + '\n');
  return file;
}

/** Whether a stop request for `runId` is still waiting (not yet handled). */
export function stopRequested(root: string, autopilotDir: string, runId: string): boolean {
  return validRunId(runId) && requestNames(path.join(stopRequestsDir(root, autopilotDir), runId), runId);
}

/** Withdraw a request (its Controller is gone: nobody will handle it). */
export function withdrawStop(root: string, autopilotDir: string, runId: string): void {
  if (validRunId(runId)) fs.rmSync(path.join(stopRequestsDir(root, autopilotDir), runId), { force: true });
}

/**
 * The run ids with a waiting request. A file is a request only when it names its own run
 * (`{"runId": <its name>}`): the temp file of an atomic write (`<runId>.<hash>`, a valid run id
 * too) or anything else dropped there is not.
 */
export function pendingStops(root: string, autopilotDir: string): string[] {
  const dir = stopRequestsDir(root, autopilotDir);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((name) => validRunId(name) && requestNames(path.join(dir, name), name)).sort();
}

function requestNames(file: string, runId: string): boolean {
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { runId?: unknown }).runId === runId;
  } catch {
    return false;
  }
}

/** Remove every request (a run's start: requests left for cycles of a Controller that died mean nothing now). */
export function clearStopRequests(root: string, autopilotDir: string): void {
  for (const runId of pendingStops(root, autopilotDir)) withdrawStop(root, autopilotDir, runId);
}

export interface WatchStopOptions {
  /** How often the folder is read (fs.watch only makes it sooner; some file systems never notify). Default 250 ms. */
  intervalMs?: number;
  /** A request `onStop` did not take (no such cycle in flight here) is removed once this old. Default 60 s. */
  unknownTtlMs?: number;
}

/**
 * Watch the stop requests of `root` until `signal` aborts: each request is passed to `onStop(runId)`
 * once; it returns true when it stopped a cycle of ours, and the request is removed. A request for
 * a run not in flight here is left (its cycle may be about to be registered) and removed once
 * `unknownTtlMs` old. Polls, and wakes at once on an fs.watch event where the platform gives one.
 */
export function watchStopRequests(root: string, autopilotDir: string, onStop: (runId: string) => boolean | void, signal: AbortSignal, opts: WatchStopOptions = {}): void {
  const dir = stopRequestsDir(root, autopilotDir);
  const ttl = opts.unknownTtlMs ?? 60_000;
  const handled = new Set<string>();
  const scan = () => {
    if (signal.aborted) return;
    for (const runId of pendingStops(root, autopilotDir)) {
      const file = path.join(dir, runId);
      let took = handled.has(runId);
      if (!took) {
        try {
          took = onStop(runId) === true;
        } catch {
          took = false;
        }
      }
      if (took) {
        handled.add(runId);
        fs.rmSync(file, { force: true });
      } else if (isOlderThan(file, ttl)) {
        fs.rmSync(file, { force: true });
      }
    }
  };
  let watcher: fs.FSWatcher | undefined;
  const startWatch = () => {
    if (watcher || !fs.existsSync(dir)) return;
    try {
      watcher = fs.watch(dir, { persistent: false }, () => scan());
      watcher.on('error', () => {
        watcher?.close();
        watcher = undefined;
      });
    } catch {
      watcher = undefined; // polling alone
    }
  };
  const timer = setInterval(() => {
    startWatch();
    scan();
  }, Math.max(20, opts.intervalMs ?? 250));
  timer.unref();
  signal.addEventListener('abort', () => {
    clearInterval(timer);
    watcher?.close();
  }, { once: true });
  startWatch();
  scan();
}

function isOlderThan(file: string, ms: number): boolean {
  try {
    return Date.now() - fs.statSync(file).mtimeMs > ms;
  } catch {
    return false;
  }
}
