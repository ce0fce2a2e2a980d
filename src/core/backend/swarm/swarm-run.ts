/**
 * What one run holds on the swarm, made lazily at its first job and removed by `dispose` on every
 * path: the run folder (`os.tmpdir()/factory-relay-<run>`, owner-only, owned by the relay's user;
 * the relay's one bind mount), the run's internal overlay network, the relay image and service,
 * and every job's service and token secret still alive.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Docker from 'dockerode';
import type { FactoryConfig } from '../../config/schema';
import { workerIdentity } from '../../sandbox/staging';
import { FactoryError, errorMessage } from '../../util/errors';
import { nullLogger, type Logger } from '../../util/log';
import { isGone, runSlug } from './names';
import { ensureRelayImage } from './relay-image';
import { startRelay, type RelayHandle } from './relay-service';
import { findSwarmAsset } from './swarm-assets';
import { localNodeId } from './swarm-check';
import { createRunNetwork, type RunNetwork } from './swarm-net';

export interface SwarmRunDeps {
  /** The swarm manager (engine.swarm.host, else the local engine). */
  docker: Docker;
  /** This machine's engine: it builds the relay image and runs the relay (pinned to this node). */
  localDocker: Docker;
  config: FactoryConfig;
  runId: string;
  logger?: Logger;
  signal?: AbortSignal;
}

/** What the first job made. */
export interface RunParts {
  runDir: string;
  network: RunNetwork;
  relay: RelayHandle;
}

/** The relay's user owns the run folder and the job folders; the Controller (root, or that same user) reads them. */
export function relayOwner(): { uid: number; gid: number } {
  return workerIdentity();
}

/** Make `dir` (a folder of the run folder) the relay's: mode 0700, its owner. */
export function relayFolder(dir: string): string {
  fs.mkdirSync(dir, { mode: 0o700 });
  const o = relayOwner();
  if (process.getuid?.() === 0) fs.chownSync(dir, o.uid, o.gid);
  return dir;
}

/** Hand a file of the run folder to the relay's user, read-only for it. */
export function relayFile(file: string): void {
  fs.chmodSync(file, 0o400);
  const o = relayOwner();
  if (process.getuid?.() === 0) fs.chownSync(file, o.uid, o.gid);
}

export class SwarmRun {
  readonly logger: Logger;
  readonly runDir: string;
  private parts: Promise<RunParts> | undefined;
  private made: Partial<RunParts> = {};
  private jobs = 0;
  private disposed = false;
  /** Clean-ups of jobs still in flight (service, secret, forwarder): `dispose` runs what is left. */
  private readonly cleanups = new Set<() => Promise<void>>();

  constructor(readonly deps: SwarmRunDeps) {
    this.logger = deps.logger ?? nullLogger;
    this.runDir = path.join(os.tmpdir(), `factory-relay-${runSlug(deps.runId)}`);
  }

  get swarm(): FactoryConfig['engine']['swarm'] {
    return this.deps.config.engine.swarm;
  }

  /** A fresh job id (`JOB_ID_PATTERN`): the run's slug, the role, a counter, random bits. */
  nextJobId(role: 'w' | 'g'): string {
    return `${runSlug(this.deps.runId)}-${role}${++this.jobs}-${crypto.randomBytes(3).toString('hex')}`;
  }

  /** Track a job's clean-up until it ran; returns the un-tracker. */
  track(cleanup: () => Promise<void>): () => void {
    this.cleanups.add(cleanup);
    return () => this.cleanups.delete(cleanup);
  }

  /** The run folder, network and relay: made once, at the first job. */
  ready(): Promise<RunParts> {
    if (this.disposed) return Promise.reject(new FactoryError('the swarm backend was disposed', 'swarm.relay'));
    this.parts ??= this.make().catch((err: unknown) => {
      this.parts = undefined; // the next job tries again (the parts made so far are kept for dispose)
      throw err;
    });
    return this.parts;
  }

  private async make(): Promise<RunParts> {
    const { docker, localDocker, config, runId } = this.deps;
    if (!this.made.runDir) {
      fs.rmSync(this.runDir, { recursive: true, force: true });
      relayFolder(this.runDir);
      relayFolder(path.join(this.runDir, 'jobs'));
      fs.mkdirSync(path.join(this.runDir, 'controller'), { mode: 0o700 });
      this.made.runDir = this.runDir;
    }
    this.made.network ??= await createRunNetwork(docker, runId, {});
    const image = this.swarm.relayImage ?? (await ensureRelayImage(localDocker, { workerImage: config.worker.image, relayBundle: findSwarmAsset('relay.js'), logger: this.logger }));
    const nodeId = await localNodeId(localDocker);
    const o = relayOwner();
    this.made.relay = await startRelay(docker, {
      runId,
      runDir: this.runDir,
      image,
      port: this.swarm.relayPort,
      network: this.made.network.id,
      nodeId,
      user: `${o.uid}:${o.gid}`,
      logger: this.logger,
      ...(this.deps.signal ? { signal: this.deps.signal } : {}),
    });
    return { runDir: this.runDir, network: this.made.network, relay: this.made.relay };
  }

  /** Stop the relay, remove the jobs' services and secrets, the network and the run folder. Idempotent. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.parts?.catch(() => undefined);
    const step = async (what: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (err) {
        if (!isGone(err)) this.logger.warn(`swarm clean-up: ${what}: ${errorMessage(err)}`);
      }
    };
    await Promise.all([...this.cleanups].map((c) => step('job', c)));
    this.cleanups.clear();
    if (this.made.relay) await step('relay', () => this.made.relay?.stop() ?? Promise.resolve());
    if (this.made.network) await step('network', () => this.made.network?.remove() ?? Promise.resolve());
    await step('run folder', () => Promise.resolve(fs.rmSync(this.runDir, { recursive: true, force: true })));
  }
}
