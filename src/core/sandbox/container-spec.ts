import * as os from 'node:os';
import * as path from 'node:path';
import type Docker from 'dockerode';
import type { Logger } from '../util/log';
import { FactoryError } from '../util/errors';

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
  /**
   * `uid:gid` that owns the tmpfs mounts when the work runs as another user than the main
   * process (an exec session: its keep-alive runs as a user the steps cannot signal). Default `user`.
   */
  tmpfsOwner?: string;
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

/** Output recorded per container when the spec names no cap. */
export const DEFAULT_LOG_CAP = 64 * 1024 * 1024;
/** Time after the cap for kill → collect → remove, when the caller names none. */
export const DEFAULT_GRACE_MS = 5_000;

/** Owner tag of this process, written to every container it starts. */
export function ownerTag(): string {
  return `${os.hostname()}:${process.pid}`;
}

/** The pid of an {@link ownerTag} when it names a process of this host (null: another host, or no valid pid). */
export function localOwnerPid(owner: string): number | null {
  const i = owner.lastIndexOf(':');
  const pid = Number(owner.slice(i + 1));
  return owner.slice(0, i) === os.hostname() && Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** Whether a process of this host runs with `pid` (one of another user's, EPERM, counts as running). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Refuse specs that would weaken the sandbox: root user, the engine socket, the host home folder
 * (or a parent of it) or any `.git` folder mounted into the container, relative mount paths.
 */
export function validateSpec(spec: ContainerSpec): void {
  validateUser(spec.user ?? '1000:1000');
  if (spec.tmpfsOwner !== undefined) validateUser(spec.tmpfsOwner);
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

/** A container (or exec) user must be a numeric non-root `uid[:gid]`. */
export function validateUser(user: string): void {
  const [uid, gid] = user.split(':');
  if (!/^\d+$/.test(uid ?? '') || Number(uid) === 0 || (gid !== undefined && (!/^\d+$/.test(gid) || Number(gid) === 0))) {
    throw new FactoryError(`container user must be a numeric non-root uid:gid, got "${user}"`, 'sandbox-spec');
  }
}

/** The engine request body for a spec: the hardening profile in one place (SECURITY 1). */
export function buildCreateOptions(spec: ContainerSpec, now = Date.now(), graceMs = DEFAULT_GRACE_MS): Docker.ContainerCreateOptions {
  const user = spec.user ?? '1000:1000';
  const owner = spec.tmpfsOwner ?? user;
  const uid = owner.split(':')[0] ?? '1000';
  const gid = owner.split(':')[1] ?? uid;
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
