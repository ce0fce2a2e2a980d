import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { connectDocker } from '../docker/connect';
import { errorMessage } from '../util/errors';
import { nullLogger, type Logger } from '../util/log';
import { stopwatch } from '../util/stopwatch';
import {
  DEFAULT_GRACE_MS,
  DEFAULT_LOG_CAP,
  buildCreateOptions,
  validateSpec,
  type ContainerResult,
  type ContainerSpec,
  type ContainerStatus,
  type RunContainerOptions,
} from './container-spec';
import { AttachDemuxer, ENGINE_CALL_MS, createWithWarnings, waitNextExit, withTimeout } from './engine-calls';


/** The container's output: demultiplexed into the log file and the subscriber, up to the cap. */
class OutputRecorder {
  outputBytes = 0;
  truncated = false;
  private recorded = 0;
  private readonly log: fs.WriteStream | undefined;
  readonly demux: AttachDemuxer;

  constructor(
    private readonly cap: number,
    logFile: string | undefined,
    warnings: string[],
    onOutput: RunContainerOptions['onOutput'],
    logger: Logger,
  ) {
    if (logFile) {
      fs.mkdirSync(path.dirname(logFile), { recursive: true });
      this.log = fs.createWriteStream(logFile, { flags: 'a', mode: 0o600 });
      this.log.on('error', (err) => warnings.push(`log file: ${err.message}`));
    }
    this.demux = new AttachDemuxer((stream, chunk) => {
      this.outputBytes += chunk.length;
      if (this.recorded >= this.cap) {
        this.truncated = true;
        return;
      }
      const part = this.recorded + chunk.length > this.cap ? chunk.subarray(0, this.cap - this.recorded) : chunk;
      this.recorded += part.length;
      if (part.length < chunk.length) this.truncated = true;
      this.log?.write(part);
      try {
        onOutput?.(stream, part);
      } catch (err) {
        logger.warn(`output subscriber failed: ${errorMessage(err)}`);
      }
    });
  }

  async close(): Promise<void> {
    const log = this.log;
    if (log) await new Promise<void>((r) => log.end(r));
  }
}

/** What one created container's run left for collection and removal. */
interface Supervised {
  status: ContainerStatus;
  error?: string;
  started: boolean;
  attachStream?: Readable;
  attachDone: Promise<void>;
  /** Deadline of the clean-up calls: shortened once the engine has failed to answer. */
  cleanupCallMs: number;
}

/** Everything one run needs to know about its container and its caller. */
interface RunContext {
  docker: Docker;
  container: Docker.Container;
  id: string;
  spec: ContainerSpec;
  opts: RunContainerOptions;
  logger: Logger;
  graceMs: number;
  warnings: string[];
  lap: (what: string) => void;
}

/** Attach → register the wait → start under the time cap and the caller's abort → the exit. */
async function supervise(ctx: RunContext, rec: OutputRecorder): Promise<Supervised> {
  const { docker, container, id, spec, opts, logger, warnings, lap } = ctx;
  const out: Supervised = { status: 'exited', started: false, attachDone: Promise.resolve(), cleanupCallMs: ENGINE_CALL_MS };
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const attachStream = (await withTimeout(container.attach({ stream: true, stdout: true, stderr: true, logs: false }), ENGINE_CALL_MS, 'attach')) as unknown as Readable;
    out.attachStream = attachStream;
    out.attachDone = new Promise<void>((resolve) => {
      attachStream.on('data', (c: Buffer) => rec.demux.push(c));
      attachStream.on('end', resolve);
      attachStream.on('close', resolve);
      attachStream.on('error', () => resolve());
    });
    const waiter = waitNextExit(docker, id);
    await withTimeout(waiter.registered, ENGINE_CALL_MS, 'wait');

    // The time cap and the caller's abort both end in the same kill; the first reason wins.
    let killReason: { status: ContainerStatus; why: string } | undefined;
    let killed!: () => void;
    const killedPromise = new Promise<void>((r) => (killed = r));
    const kill = (reason: { status: ContainerStatus; why: string }) => {
      if (killReason) return;
      killReason = reason;
      logger.info(`container ${id.slice(0, 12)}: ${reason.why}; killing`);
      withTimeout(container.kill({ signal: 'SIGKILL' }), ENGINE_CALL_MS, 'kill').catch((err: unknown) => {
        if (!/is not running|no such container/i.test(errorMessage(err))) warnings.push(`kill: ${errorMessage(err)}`);
      });
      killed();
    };
    onAbort = () => kill({ status: 'killed', why: 'aborted by the Controller' });
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    lap('attached');
    await withTimeout(container.start(), ENGINE_CALL_MS, 'start');
    out.started = true;
    lap('started');
    timer = setTimeout(() => kill({ status: 'timeout', why: `time cap of ${spec.timeoutMs} ms reached` }), spec.timeoutMs);
    if (opts.signal?.aborted) onAbort();
    await notifyStart(opts, id, logger);
    await awaitExit(waiter.exit, killedPromise, () => killReason, out, ctx);
  } catch (err) {
    out.status = 'error';
    out.error = errorMessage(err);
  } finally {
    clearTimeout(timer);
    if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
  }
  return out;
}

async function notifyStart(opts: RunContainerOptions, id: string, logger: Logger): Promise<void> {
  if (!opts.onStart) return;
  try {
    await opts.onStart(id);
  } catch (err) {
    logger.warn(`onStart failed: ${errorMessage(err)}`);
  }
}

/** The exit as the engine reports it; after a kill it has `graceMs` to do so — a wedged engine must not hang us. */
async function awaitExit(
  exit: ReturnType<typeof waitNextExit>['exit'],
  killedPromise: Promise<void>,
  killReason: () => { status: ContainerStatus } | undefined,
  out: Supervised,
  ctx: RunContext,
): Promise<void> {
  const { graceMs, warnings } = ctx;
  const afterKill = killedPromise.then(
    () =>
      new Promise<'gave-up'>((r) => {
        const t = setTimeout(() => r('gave-up'), graceMs);
        t.unref?.();
      }),
  );
  const outcome = await Promise.race([exit.then((v) => ({ kind: 'exit' as const, v }), (e: unknown) => ({ kind: 'lost' as const, e })), afterKill]);
  const reason = killReason();
  if (reason) out.status = reason.status;
  if (outcome === 'gave-up') {
    warnings.push(`the engine did not confirm the exit within ${graceMs} ms of the kill`);
    out.cleanupCallMs = Math.min(ENGINE_CALL_MS, graceMs);
  } else if (outcome.kind === 'lost') {
    out.cleanupCallMs = Math.min(ENGINE_CALL_MS, graceMs);
    if (!reason) {
      out.status = 'error';
      out.error = `lost the engine while the container ran: ${errorMessage(outcome.e)}`;
    }
  } else if (outcome.v.Error?.Message) {
    warnings.push(`wait: ${outcome.v.Error.Message}`);
  }
}

/** Exit code and OOM flag from inspect: authoritative even when the wait stream broke. */
async function collect(ctx: RunContext, run: Supervised): Promise<{ exitCode: number | null; oomKilled: boolean }> {
  let exitCode: number | null = null;
  let oomKilled = false;
  try {
    const info = await withTimeout(ctx.container.inspect(), run.cleanupCallMs, 'inspect');
    if (info.State.Running) {
      // Still running (e.g. the wait connection broke): make sure it dies before removal.
      await withTimeout(ctx.container.kill({ signal: 'SIGKILL' }), run.cleanupCallMs, 'kill').catch(() => undefined);
    } else if (run.started) {
      exitCode = info.State.ExitCode;
    }
    oomKilled = info.State.OOMKilled;
  } catch (err) {
    if (run.status === 'exited') {
      run.status = 'error';
      run.error = `cannot inspect the container after it ran: ${errorMessage(err)}`;
    } else {
      ctx.warnings.push(`inspect: ${errorMessage(err)}`);
    }
  }
  return { exitCode, oomKilled };
}

/** Force-remove the container; a failure is a warning (the reaper removes it later). */
async function removeContainer(ctx: RunContext, callMs: number): Promise<void> {
  try {
    await withTimeout(ctx.container.remove({ force: true, v: true }), callMs, 'remove');
  } catch (err) {
    if (!/no such container|is already in progress/i.test(errorMessage(err))) {
      ctx.warnings.push(`container ${ctx.id.slice(0, 12)} could not be removed (the reaper will): ${errorMessage(err)}`);
    }
  }
}

/**
 * Run one hardened container to completion: create (refusing on engine warnings) → attach → wait
 * → start, streaming demultiplexed output to `logFile` and `onOutput` up to `logCapBytes`. A host
 * timer enforces `timeoutMs` (kill → collect → remove); `signal` kills early. The container is
 * always removed. Never hangs on a dead engine: every engine call has a deadline.
 */
export async function runContainer(spec: ContainerSpec, opts: RunContainerOptions = {}): Promise<ContainerResult> {
  const logger = opts.logger ?? nullLogger;
  const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
  validateSpec(spec);
  const docker = opts.docker ?? (await connectDocker({ signal: opts.signal })).docker;
  const t0 = Date.now();
  const lap = stopwatch(logger, `container ${spec.labels.role}`);
  const warnings: string[] = [];
  const cap = spec.logCapBytes ?? DEFAULT_LOG_CAP;
  const result = (status: ContainerStatus, extra: Partial<ContainerResult> = {}): ContainerResult => ({
    status, exitCode: null, oomKilled: false, durationMs: Date.now() - t0, containerId: '', warnings, logTruncated: false, outputBytes: 0, ...extra,
  });
  if (opts.signal?.aborted) return result('killed', { error: 'aborted before start' });

  let created: { id: string; warnings: string[] };
  try {
    created = await withTimeout(createWithWarnings(docker, buildCreateOptions(spec, t0, graceMs)), ENGINE_CALL_MS, 'create');
  } catch (err) {
    return result('error', { error: `cannot create the container: ${errorMessage(err)}` });
  }
  const id = created.id;
  lap('created');
  const ctx: RunContext = { docker, container: docker.getContainer(id), id, spec, opts, logger, graceMs, warnings, lap };
  if (created.warnings.length) {
    // SECURITY 6: a limit the engine could not apply means the sandbox is weaker than asked for.
    warnings.push(...created.warnings);
    await removeContainer(ctx, ENGINE_CALL_MS);
    return result('error', { containerId: id, error: `the engine could not apply every limit: ${created.warnings.join('; ')}` });
  }

  const rec = new OutputRecorder(cap, spec.logFile, warnings, opts.onOutput, logger);
  const run = await supervise(ctx, rec);
  lap('exited');
  const { exitCode, oomKilled } = await collect(ctx, run);
  // Give the attach stream a moment to flush the last frames, then stop listening.
  await Promise.race([run.attachDone, new Promise((r) => setTimeout(r, 1_000).unref?.())]);
  run.attachStream?.destroy();
  lap('inspected, output flushed');
  // Once the engine has failed to answer, removal gets only the grace period: a wedged engine
  // must not hold the Controller for several full call timeouts.
  await removeContainer(ctx, run.cleanupCallMs);
  lap('removed');
  await rec.close();
  if (rec.truncated) warnings.push(`output beyond ${cap} bytes was dropped (${rec.outputBytes} bytes received)`);
  const status = run.status;
  return result(status, { exitCode, oomKilled, containerId: id, logTruncated: rec.truncated, outputBytes: rec.outputBytes, ...(run.error ? { error: run.error } : {}) });
}
