import type Docker from 'dockerode';
import { connectDocker } from '../docker/connect';
import { DEFAULT_JOB_LIMITS, runJob, type ContainerJob, type JobLimits } from '../sandbox/job';
import { FactoryError, errorMessage } from '../util/errors';
import { nullLogger, type Logger } from '../util/log';
import { DEFAULT_OUTPUT_CAP, TailBuffer, type CommandOutcome, type CommandSpec, type StageRunner } from './stage-runner';

export interface ContainerRunnerOptions {
  /**
   * The tree under test on the host, mounted at /workspace; never a folder that contains `.git`.
   * A function is called once, at the first command (so a gate-cache hit never pays for a copy).
   */
  treeDir: string | (() => Promise<string>);
  image: string;
  /** The Worker's limits; the growth and log caps default to the config schema's. */
  limits: Pick<JobLimits, 'memoryMb' | 'cpus' | 'pidsLimit' | 'tmpfsMb'> & Partial<JobLimits>;
  /** Numeric non-root `uid:gid`; default the Worker's (`workerIdentity`). */
  user?: string;
  /** Mount the tree read-only (the working tree); a Controller-owned copy may be writable. */
  readOnly: boolean;
  /** Labels of the gate containers (the reaper and `docker ps` use them). */
  runId: string;
  ticket: string;
  /** The repository the gate runs for (labelled, so a reaper records only its own). */
  repo?: string;
  /** Host folder the reaper deletes if a gate container is found orphaned (a temp copy). */
  cleanupPath?: string;
  docker?: Docker;
  logger?: Logger;
  outputCap?: number;
  /** Called with each gate container's id once it runs (tests inspect the hardening with it). */
  onContainerStart?: (containerId: string) => void | Promise<void>;
}

/** One Gate step's container: the tree under test at /workspace (read-only unless the Controller owns a copy), the Worker's limits. */
export function gateJob(opts: ContainerRunnerOptions, spec: CommandSpec, treeDir: string): ContainerJob {
  return {
    role: 'gate',
    image: opts.image,
    cmd: spec.argv,
    env: { CI: 'true', NO_COLOR: '1', ...(spec.env ?? {}) },
    ...(opts.user ? { user: opts.user } : {}),
    mounts: [{ hostPath: treeDir, containerPath: '/workspace', readOnly: opts.readOnly }],
    limits: { ...DEFAULT_JOB_LIMITS, ...opts.limits },
    labels: { runId: opts.runId, ticket: opts.ticket, ...(opts.repo ? { repo: opts.repo } : {}) },
    timeoutMs: spec.timeoutMs,
    ...(opts.cleanupPath ? { cleanupPath: opts.cleanupPath } : {}),
  };
}

/**
 * The default Gate runner (`gate.runIn: "container"`): every guard and stage is its own fresh,
 * hardened container (network none, caps dropped, read-only root, limits) over the tree under
 * test, because that code is the Worker's and is not trusted on the host.
 */
export class ContainerRunner implements StageRunner {
  readonly kind = 'container' as const;
  private docker: Docker | undefined;
  private imageId: Promise<string> | undefined;
  private tree: Promise<string> | undefined;

  constructor(private readonly opts: ContainerRunnerOptions) {
    this.docker = opts.docker;
  }

  private async engine(signal?: AbortSignal): Promise<Docker> {
    this.docker ??= (await connectDocker({ ...(signal ? { signal } : {}) })).docker;
    return this.docker;
  }

  /** The image id (`sha256:…`): a PASS on another build of the image is not reused. */
  identity(signal?: AbortSignal): Promise<string> {
    this.imageId ??= (async () => {
      const docker = await this.engine(signal);
      try {
        const info = await docker.getImage(this.opts.image).inspect();
        return info.Id;
      } catch (err) {
        throw new FactoryError(
          `gate image ${this.opts.image} is not available (${errorMessage(err).replace(/\s+/g, ' ').slice(0, 120)}); build it ("Factory: Build Worker Image", or scripts/build-worker-image.sh for the base image), set worker.image in .factory/config.json, or use gate.runIn "host" for trusted code`,
          'gate.image',
        );
      }
    })();
    return this.imageId;
  }

  async run(spec: CommandSpec, signal?: AbortSignal): Promise<CommandOutcome> {
    const buf = new TailBuffer(this.opts.outputCap ?? DEFAULT_OUTPUT_CAP);
    const t0 = Date.now();
    let docker: Docker;
    try {
      docker = await this.engine(signal);
    } catch (err) {
      return { exitCode: null, timedOut: false, aborted: false, startError: errorMessage(err), durationMs: Date.now() - t0, output: '', truncated: false };
    }
    let treeDir: string;
    try {
      const src = this.opts.treeDir;
      this.tree ??= typeof src === 'string' ? Promise.resolve(src) : src();
      treeDir = await this.tree;
    } catch (err) {
      return { exitCode: null, timedOut: false, aborted: false, startError: `cannot prepare the tree: ${errorMessage(err)}`, durationMs: Date.now() - t0, output: '', truncated: false };
    }
    const res = await runJob(
      gateJob(this.opts, spec, treeDir),
      {
        docker,
        ...(signal ? { signal } : {}),
        logger: this.opts.logger ?? nullLogger,
        onOutput: (_s, chunk) => {
          buf.push(chunk);
          spec.onOutput?.(chunk);
        },
        ...(this.opts.onContainerStart ? { onStart: this.opts.onContainerStart } : {}),
      },
    );
    const base = { durationMs: res.durationMs, output: buf.text(), truncated: buf.truncated || res.logTruncated };
    if (res.overCap) {
      const cap = this.opts.limits.workspaceMb ?? DEFAULT_JOB_LIMITS.workspaceMb;
      return { ...base, exitCode: null, timedOut: false, aborted: false, startError: `the step wrote more than ${cap} MiB into the tree and was stopped` };
    }
    switch (res.status) {
      case 'exited':
        return { ...base, exitCode: res.exitCode, timedOut: false, aborted: false };
      case 'timeout':
        return { ...base, exitCode: null, timedOut: true, aborted: false };
      case 'killed':
        return { ...base, exitCode: null, timedOut: false, aborted: true };
      case 'error':
        return { ...base, exitCode: null, timedOut: false, aborted: false, startError: res.error ?? 'container error' };
    }
  }
}
