import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { connectDocker } from '../docker/connect';
import { FactoryError, errorMessage } from '../util/errors';
import { nullLogger, type Logger } from '../util/log';
import { isOwnTempFolder } from './staging-root';
import { stopwatch } from '../util/stopwatch';

/** Label keys every Factory container carries; the reaper and `docker ps --filter` use them. */
export const LABELS = {
  managed: 'factory.managed',
  runId: 'factory.run_id',
  ticket: 'factory.ticket',
  role: 'factory.role',
  /** Epoch milliseconds after which the container is overdue (time cap + grace). */
  deadline: 'factory.deadline',
  /** `hostname:pid` of the Controller process that owns the container. */
  owner: 'factory.owner',
  /** Host folder to delete when the container is reaped as an orphan (a staging copy). */
  cleanup: 'factory.cleanup',
  /** Real path of the repository the cycle belongs to (so a reaper records only its own). */
  repo: 'factory.repo',
} as const;

export type ContainerRole = 'worker' | 'gate' | 'auditor';

export interface ContainerMount {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

export interface ContainerLimits {
  memoryMb: number;
  cpus: number;
  pidsLimit: number;
  /** Size of each tmpfs mount (`/tmp` and the home folder by default). */
  tmpfsMb: number;
  /** Largest single file the container may write (RLIMIT_FSIZE); defaults to 1 GiB. */
  fileSizeMb?: number;
  /** Optional block-I/O weight (10–1000). Engines that cannot apply it warn, and the run refuses. */
  blkioWeight?: number;
}

export interface ContainerSpec {
  image: string;
  /** argv; no shell is involved unless the caller puts one there. */
  cmd: string[];
  env?: Record<string, string>;
  /** `uid:gid`, never root; default `1000:1000`. */
  user?: string;
  workdir?: string;
  mounts: ContainerMount[];
  /** Writable size-capped tmpfs mount points (default `/tmp` and `/home/worker`). */
  tmpfs?: string[];
  limits: ContainerLimits;
  labels: { runId: string; ticket: string; role: ContainerRole; repo?: string };
  /** Host-enforced time cap: the container is killed when it runs longer. */
  timeoutMs: number;
  /** Append demultiplexed output here (`[stderr] ` lines are not prefixed: raw bytes, both streams). */
  logFile?: string;
  /** Stop recording output (log file and subscribers) after this many bytes; default 64 MiB. */
  logCapBytes?: number;
  /** Host folder the reaper deletes if this container is ever found orphaned. */
  cleanupPath?: string;
}

export type ContainerStatus = 'exited' | 'timeout' | 'killed' | 'error';

export interface ContainerResult {
  status: ContainerStatus;
  exitCode: number | null;
  oomKilled: boolean;
  durationMs: number;
  /** Empty when the container could not even be created. */
  containerId: string;
  /** Engine warnings and runner notes (log truncated, engine lost, removal failed…). */
  warnings: string[];
  /** Set when status is `error`: what went wrong, in one line. */
  error?: string;
  /** True when output beyond `logCapBytes` was dropped. */
  logTruncated: boolean;
  /** Bytes of output received (including dropped ones). */
  outputBytes: number;
}

export interface RunContainerOptions {
  /** An engine client; `connectDocker()` is used when absent. */
  docker?: Docker;
  signal?: AbortSignal;
  logger?: Logger;
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
  /** Called once the container has started (e.g. to `docker inspect` it, or to record its id). */
  onStart?: (containerId: string) => void | Promise<void>;
  /** Extra time after the cap for kill → collect → remove before the runner gives up on the engine. */
  graceMs?: number;
}

const DEFAULT_LOG_CAP = 64 * 1024 * 1024;
const DEFAULT_GRACE_MS = 5_000;
/** Engine calls that should be instant (create, start, kill, inspect, remove) get this long. */
const ENGINE_CALL_MS = 15_000;

/** Owner tag of this process, written to every container it starts. */
export function ownerTag(): string {
  return `${os.hostname()}:${process.pid}`;
}

/**
 * Refuse specs that would weaken the sandbox: root user, the engine socket, the host home folder
 * (or a parent of it) or any `.git` folder mounted into the container, relative mount paths.
 */
export function validateSpec(spec: ContainerSpec): void {
  const user = spec.user ?? '1000:1000';
  const [uid, gid] = user.split(':');
  if (!/^\d+$/.test(uid ?? '') || Number(uid) === 0 || (gid !== undefined && (!/^\d+$/.test(gid) || Number(gid) === 0))) {
    throw new FactoryError(`container user must be a numeric non-root uid:gid, got "${user}"`, 'sandbox-spec');
  }
  if (spec.cmd.length === 0) throw new FactoryError('container command is empty', 'sandbox-spec');
  if (!(spec.timeoutMs > 0)) throw new FactoryError('container time cap must be positive', 'sandbox-spec');
  const { memoryMb, cpus, pidsLimit, tmpfsMb } = spec.limits;
  if (!(memoryMb >= 16 && cpus > 0 && pidsLimit >= 8 && tmpfsMb >= 1)) {
    throw new FactoryError(`container limits must all be set (memory ${memoryMb} MiB, cpus ${cpus}, pids ${pidsLimit}, tmpfs ${tmpfsMb} MiB)`, 'sandbox-spec');
  }
  const home = path.resolve(os.homedir());
  for (const m of spec.mounts) {
    if (!path.isAbsolute(m.hostPath) || !path.posix.isAbsolute(m.containerPath)) {
      throw new FactoryError(`mount paths must be absolute: ${m.hostPath} → ${m.containerPath}`, 'sandbox-spec');
    }
    const host = path.resolve(m.hostPath);
    const parts = host.split(path.sep);
    if (parts.some((p) => p.toLowerCase() === '.git')) throw new FactoryError(`refusing to mount a .git folder: ${host}`, 'sandbox-spec');
    if (parts.some((p) => p === 'docker.sock') || host.endsWith('.sock') && /docker/i.test(host)) {
      throw new FactoryError(`refusing to mount the engine socket: ${host}`, 'sandbox-spec');
    }
    if (host === home || home.startsWith(host.endsWith(path.sep) ? host : host + path.sep) || host === path.parse(host).root) {
      throw new FactoryError(`refusing to mount the host home folder or a parent of it: ${host}`, 'sandbox-spec');
    }
  }
}

/** The engine request body for a spec: the hardening profile in one place (SECURITY 1). */
export function buildCreateOptions(spec: ContainerSpec, now = Date.now(), graceMs = DEFAULT_GRACE_MS): Docker.ContainerCreateOptions {
  const user = spec.user ?? '1000:1000';
  const uid = user.split(':')[0] ?? '1000';
  const gid = user.split(':')[1] ?? uid;
  const tmpfs: Record<string, string> = {};
  for (const p of spec.tmpfs ?? ['/tmp', '/home/worker']) {
    // Owned by the Worker user so tools that write caches (~/.cache, ~/.claude) work on a read-only root.
    tmpfs[p] = `rw,nosuid,nodev,size=${spec.limits.tmpfsMb}m,uid=${uid},gid=${gid},mode=${p === '/tmp' ? '1777' : '0700'}`;
  }
  const memory = Math.floor(spec.limits.memoryMb * 1024 * 1024);
  const fsize = Math.floor((spec.limits.fileSizeMb ?? 1024) * 1024 * 1024);
  const labels: Record<string, string> = {
    [LABELS.managed]: '1',
    [LABELS.runId]: spec.labels.runId,
    [LABELS.ticket]: spec.labels.ticket,
    [LABELS.role]: spec.labels.role,
    [LABELS.deadline]: String(now + spec.timeoutMs + graceMs),
    [LABELS.owner]: ownerTag(),
  };
  if (spec.cleanupPath) labels[LABELS.cleanup] = spec.cleanupPath;
  if (spec.labels.repo) labels[LABELS.repo] = spec.labels.repo;
  return {
    Image: spec.image,
    Cmd: spec.cmd,
    Env: Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`),
    User: user,
    WorkingDir: spec.workdir ?? '/workspace',
    Labels: labels,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: false,
    Tty: false,
    NetworkDisabled: true,
    HostConfig: {
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      ReadonlyRootfs: true,
      Tmpfs: tmpfs,
      PidsLimit: spec.limits.pidsLimit,
      Memory: memory,
      // Equal to Memory: no swap on top of the memory cap.
      MemorySwap: memory,
      NanoCpus: Math.round(spec.limits.cpus * 1e9),
      ...(spec.limits.blkioWeight !== undefined ? { BlkioWeight: spec.limits.blkioWeight } : {}),
      Init: true,
      AutoRemove: false,
      IpcMode: 'private',
      Ulimits: [
        { Name: 'fsize', Soft: fsize, Hard: fsize },
        { Name: 'nofile', Soft: 4096, Hard: 4096 },
        { Name: 'core', Soft: 0, Hard: 0 },
      ],
      Mounts: spec.mounts.map((m) => ({
        Type: 'bind' as const,
        Source: path.resolve(m.hostPath),
        Target: m.containerPath,
        ReadOnly: m.readOnly,
        BindOptions: { Propagation: 'rprivate' as const },
      })),
    },
  };
}

/** Promise with a deadline; the loser is left to settle on its own (its result ignored). */
async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer from the engine within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** POST /containers/create through the modem so the engine's `Warnings` are not dropped. */
async function createWithWarnings(docker: Docker, body: Docker.ContainerCreateOptions): Promise<{ id: string; warnings: string[] }> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      {
        path: '/containers/create?',
        method: 'POST',
        options: body,
        statusCodes: { 200: true, 201: true, 400: 'bad parameter', 404: 'no such image', 409: 'conflict', 500: 'server error' },
      },
      (err, data) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        const d = data as { Id?: string; Warnings?: string[] | null };
        if (!d?.Id) return reject(new Error('engine returned no container id'));
        resolve({ id: d.Id, warnings: (d.Warnings ?? []).filter((w) => w.trim() !== '') });
      },
    );
  });
}

/**
 * POST /containers/{id}/wait?condition=next-exit as a stream: resolves `registered` once the
 * engine has answered the headers (so a start after it cannot be missed), then `exit` with the code.
 */
function waitNextExit(docker: Docker, id: string): { registered: Promise<void>; exit: Promise<{ StatusCode?: number; Error?: { Message?: string } | null }> } {
  let onRegistered!: () => void;
  let onRegFail!: (e: Error) => void;
  const registered = new Promise<void>((res, rej) => {
    onRegistered = res;
    onRegFail = rej;
  });
  const exit = new Promise<{ StatusCode?: number; Error?: { Message?: string } | null }>((resolve, reject) => {
    docker.modem.dial(
      {
        path: `/containers/${id}/wait?`,
        method: 'POST',
        options: { condition: 'next-exit' },
        isStream: true,
        statusCodes: { 200: true, 400: 'bad parameter', 404: 'no such container', 500: 'server error' },
      },
      (err, stream) => {
        if (err) {
          const e = err instanceof Error ? err : new Error(String(err));
          onRegFail(e);
          return reject(e);
        }
        onRegistered();
        const s = stream as Readable;
        const chunks: Buffer[] = [];
        s.on('data', (c: Buffer) => chunks.push(c));
        s.on('error', reject);
        s.on('close', () => {
          const text = Buffer.concat(chunks).toString('utf8').trim();
          if (!text) return reject(new Error('connection to the engine closed while waiting for the container'));
          try {
            resolve(JSON.parse(text) as { StatusCode?: number });
          } catch {
            reject(new Error(`unreadable wait answer from the engine: ${text.slice(0, 200)}`));
          }
        });
      },
    );
  });
  // Both are observed by the caller, but not always: keep unhandled rejections out of the log.
  registered.catch(() => undefined);
  exit.catch(() => undefined);
  return { registered, exit };
}

/**
 * Demultiplex Docker's attach stream (8-byte frame header: stream type, 3 zero bytes, big-endian
 * length) into stdout/stderr chunks, handling frames split across reads.
 */
export class AttachDemuxer {
  private pending: Buffer = Buffer.alloc(0);
  constructor(private readonly emit: (stream: 'stdout' | 'stderr', chunk: Buffer) => void) {}

  push(data: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, data]) : data;
    while (this.pending.length >= 8) {
      const type = this.pending[0];
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const payload = this.pending.subarray(8, 8 + size);
      this.pending = this.pending.subarray(8 + size);
      if (size > 0) this.emit(type === 2 ? 'stderr' : 'stdout', payload);
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
  let outputBytes = 0;
  let recorded = 0;
  let logTruncated = false;
  const result = (status: ContainerStatus, extra: Partial<ContainerResult> = {}): ContainerResult => ({
    status,
    exitCode: null,
    oomKilled: false,
    durationMs: Date.now() - t0,
    containerId: '',
    warnings,
    logTruncated,
    outputBytes,
    ...extra,
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
  const container = docker.getContainer(id);
  // Once the engine has failed to answer, clean-up calls get only the grace period: a wedged
  // engine must not hold the Controller for several full call timeouts.
  let cleanupCallMs = ENGINE_CALL_MS;
  const remove = async () => {
    try {
      await withTimeout(container.remove({ force: true, v: true }), cleanupCallMs, 'remove');
    } catch (err) {
      if (!/no such container|is already in progress/i.test(errorMessage(err))) {
        warnings.push(`container ${id.slice(0, 12)} could not be removed (the reaper will): ${errorMessage(err)}`);
      }
    }
  };

  if (created.warnings.length) {
    // SECURITY 6: a limit the engine could not apply means the sandbox is weaker than asked for.
    warnings.push(...created.warnings);
    await remove();
    return result('error', { containerId: id, error: `the engine could not apply every limit: ${created.warnings.join('; ')}` });
  }

  let logStream: fs.WriteStream | undefined;
  if (spec.logFile) {
    fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
    logStream = fs.createWriteStream(spec.logFile, { flags: 'a', mode: 0o600 });
    logStream.on('error', (err) => warnings.push(`log file: ${err.message}`));
  }
  const demux = new AttachDemuxer((stream, chunk) => {
    outputBytes += chunk.length;
    if (recorded >= cap) {
      logTruncated = true;
      return;
    }
    const part = recorded + chunk.length > cap ? chunk.subarray(0, cap - recorded) : chunk;
    recorded += part.length;
    if (part.length < chunk.length) logTruncated = true;
    logStream?.write(part);
    try {
      opts.onOutput?.(stream, part);
    } catch (err) {
      logger.warn(`output subscriber failed: ${errorMessage(err)}`);
    }
  });

  let attachStream: Readable | undefined;
  let status: ContainerStatus = 'exited';
  let error: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  let started = false;
  const attachDone = { promise: Promise.resolve() };
  try {
    attachStream = (await withTimeout(
      container.attach({ stream: true, stdout: true, stderr: true, logs: false }),
      ENGINE_CALL_MS,
      'attach',
    )) as unknown as Readable;
    attachDone.promise = new Promise<void>((resolve) => {
      attachStream!.on('data', (c: Buffer) => demux.push(c));
      attachStream!.on('end', resolve);
      attachStream!.on('close', resolve);
      attachStream!.on('error', () => resolve());
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
    started = true;
    lap('started');
    timer = setTimeout(() => kill({ status: 'timeout', why: `time cap of ${spec.timeoutMs} ms reached` }), spec.timeoutMs);
    if (opts.signal?.aborted) onAbort();
    if (opts.onStart) {
      try {
        await opts.onStart(id);
      } catch (err) {
        logger.warn(`onStart failed: ${errorMessage(err)}`);
      }
    }

    // After a kill the engine has `graceMs` to report the exit; a dead or wedged engine must not hang us.
    const afterKill = killedPromise.then(
      () =>
        new Promise<'gave-up'>((r) => {
          const t = setTimeout(() => r('gave-up'), graceMs);
          t.unref?.();
        }),
    );
    const outcome = await Promise.race([waiter.exit.then((v) => ({ kind: 'exit' as const, v }), (e: unknown) => ({ kind: 'lost' as const, e })), afterKill]);
    if (killReason) status = killReason.status;
    if (outcome === 'gave-up') {
      warnings.push(`the engine did not confirm the exit within ${graceMs} ms of the kill`);
      cleanupCallMs = Math.min(ENGINE_CALL_MS, graceMs);
    } else if (outcome.kind === 'lost') {
      cleanupCallMs = Math.min(ENGINE_CALL_MS, graceMs);
      if (!killReason) {
        status = 'error';
        error = `lost the engine while the container ran: ${errorMessage(outcome.e)}`;
      }
    } else if (outcome.v.Error?.Message) {
      warnings.push(`wait: ${outcome.v.Error.Message}`);
    }
  } catch (err) {
    status = 'error';
    error = errorMessage(err);
  } finally {
    clearTimeout(timer);
    if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
  }

  lap('exited');
  // Collect: exit code and OOM flag from inspect (authoritative even when the wait stream broke).
  let exitCode: number | null = null;
  let oomKilled = false;
  try {
    const info = await withTimeout(container.inspect(), cleanupCallMs, 'inspect');
    if (info.State.Running) {
      // Still running (e.g. the wait connection broke): make sure it dies before removal.
      await withTimeout(container.kill({ signal: 'SIGKILL' }), cleanupCallMs, 'kill').catch(() => undefined);
    } else if (started) {
      exitCode = info.State.ExitCode;
    }
    oomKilled = info.State.OOMKilled;
  } catch (err) {
    if (status === 'exited') {
      status = 'error';
      error = `cannot inspect the container after it ran: ${errorMessage(err)}`;
    } else {
      warnings.push(`inspect: ${errorMessage(err)}`);
    }
  }
  // Give the attach stream a moment to flush the last frames, then stop listening.
  await Promise.race([attachDone.promise, new Promise((r) => setTimeout(r, 1_000).unref?.())]);
  attachStream?.destroy();
  lap('inspected, output flushed');
  await remove();
  lap('removed');
  if (logStream) {
    const ls = logStream;
    await new Promise<void>((r) => ls.end(r));
  }
  if (logTruncated) warnings.push(`output beyond ${cap} bytes was dropped (${outputBytes} bytes received)`);
  return result(status, { exitCode, oomKilled, containerId: id, ...(error ? { error } : {}) });
}

/** A container the reaper removed. */
export interface ReapedContainer {
  containerId: string;
  runId: string;
  ticket: string;
  role: string;
  /** The `factory.repo` label ('' when the container carried none). */
  repo: string;
  reason: 'owner-gone' | 'overdue';
}

/**
 * Whether the Controller that labelled a container still runs: `dead` only when it is provably
 * gone (same host, no such pid); a Controller on another machine sharing a remote engine is
 * `unknown` and is left to its deadline.
 */
function ownerState(owner: string | undefined): 'alive' | 'dead' | 'unknown' {
  if (!owner) return 'dead';
  const i = owner.lastIndexOf(':');
  const host = owner.slice(0, i);
  const pid = Number(owner.slice(i + 1));
  if (host !== os.hostname()) return 'unknown';
  if (!Number.isInteger(pid) || pid <= 0) return 'dead';
  if (pid === process.pid) return 'alive';
  try {
    process.kill(pid, 0);
    return 'alive';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? 'alive' : 'dead';
  }
}

/**
 * Remove every Factory-labelled container whose owning Controller is gone (same host, pid not
 * running) or whose deadline has passed (SECURITY 7), and delete the staging folder it was labelled with (only when it is a
 * `factory-*` folder under the temp dir). Containers of a live Controller in time are left alone.
 * Returns what was reaped, so the caller can record those cycles as ABORTED.
 */
export async function reapOrphans(opts: { docker?: Docker; logger?: Logger; now?: number } = {}): Promise<ReapedContainer[]> {
  const logger = opts.logger ?? nullLogger;
  const docker = opts.docker ?? (await connectDocker()).docker;
  const now = opts.now ?? Date.now();
  const list = await withTimeout(docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=1`] } }), ENGINE_CALL_MS, 'list');
  const reaped: ReapedContainer[] = [];
  for (const c of list) {
    const labels = c.Labels ?? {};
    const deadline = Number(labels[LABELS.deadline] ?? 0);
    const owner = ownerState(labels[LABELS.owner]);
    const overdue = Number.isFinite(deadline) && deadline > 0 && now > deadline;
    if (owner !== 'dead' && !overdue) continue;
    try {
      await withTimeout(docker.getContainer(c.Id).remove({ force: true, v: true }), ENGINE_CALL_MS, 'remove');
    } catch (err) {
      if (!/no such container|already in progress/i.test(errorMessage(err))) {
        logger.warn(`reaper: cannot remove ${c.Id.slice(0, 12)}: ${errorMessage(err)}`);
        continue;
      }
    }
    const cleanup = labels[LABELS.cleanup];
    if (cleanup && isOwnTempFolder(cleanup)) fs.rmSync(cleanup, { recursive: true, force: true });
    logger.info(`reaper: removed orphan ${c.Id.slice(0, 12)} (run ${labels[LABELS.runId]}, ${owner === 'dead' ? 'owner gone' : 'overdue'})`);
    reaped.push({
      containerId: c.Id,
      runId: labels[LABELS.runId] ?? '',
      ticket: labels[LABELS.ticket] ?? '',
      role: labels[LABELS.role] ?? '',
      repo: labels[LABELS.repo] ?? '',
      reason: owner === 'dead' ? 'owner-gone' : 'overdue',
    });
  }
  return reaped;
}

