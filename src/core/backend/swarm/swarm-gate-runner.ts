/**
 * The Gate on the swarm: a fresh swarm job per command (the local runner's `perStep` style: a
 * task is a container of its own, there is no exec into it), each over the tree under test at
 * /workspace. The tree is packed ONCE per runner (at the first command: a gate-cache hit packs
 * nothing) and every step's bundle is that body with its own manifest; each job has its own
 * token. A step's time cap or abort removes its service; `close` deletes the packed tree.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gateJob, type ContainerRunnerOptions } from '../../gate/container-runner';
import { DEFAULT_OUTPUT_CAP, TailBuffer, type CommandOutcome, type CommandSpec, type StageRunner } from '../../gate/stage-runner';
import { errorMessage } from '../../util/errors';
import { packBody, type BundleBody } from './bundle';
import { runSwarmTask } from './swarm-task';
import type { SwarmRun } from './swarm-run';

export class SwarmGateRunner implements StageRunner {
  readonly kind = 'container' as const;
  private body: Promise<{ tree: string; body: BundleBody }> | undefined;
  private imageId: Promise<string> | undefined;
  private closed = false;

  constructor(
    private readonly swarmRun: SwarmRun,
    private readonly opts: ContainerRunnerOptions,
  ) {}

  /** The Gate image's id (the gate cache's key), from this machine's engine. */
  identity(): Promise<string> {
    this.imageId ??= this.swarmRun.deps.localDocker
      .getImage(this.opts.image)
      .inspect()
      .then((i) => i.Id)
      .catch(() => this.opts.image);
    return this.imageId;
  }

  private packed(signal?: AbortSignal): Promise<{ tree: string; body: BundleBody }> {
    this.body ??= (async () => {
      const tree = typeof this.opts.treeDir === 'function' ? await this.opts.treeDir() : this.opts.treeDir;
      const parts = await this.swarmRun.ready();
      const file = path.join(fs.mkdtempSync(path.join(parts.runDir, 'controller', 'gate-')), 'body.tar');
      const body = await packBody(file, [{ dir: 'm0', hostPath: tree, containerPath: '/workspace', readOnly: true }], this.swarmRun.swarm.transferMb * 1024 * 1024, signal);
      return { tree, body };
    })();
    this.body.catch(() => (this.body = undefined));
    return this.body;
  }

  async run(spec: CommandSpec, signal?: AbortSignal): Promise<CommandOutcome> {
    const t0 = Date.now();
    const tail = new TailBuffer(this.opts.outputCap ?? DEFAULT_OUTPUT_CAP);
    const outcome = (o: Partial<CommandOutcome>): CommandOutcome => ({ exitCode: null, timedOut: false, aborted: signal?.aborted ?? false, durationMs: Date.now() - t0, output: tail.text(), truncated: tail.truncated, ...o });
    try {
      const { tree, body } = await this.packed(signal);
      const job = gateJob(this.opts, spec, tree);
      const { result } = await runSwarmTask(this.swarmRun, { role: 'g', job, shipped: [...body.mounts], body }, {
        ...(signal ? { signal } : {}),
        ...(this.opts.logger ? { logger: this.opts.logger } : {}),
        onOutput: (_s, chunk) => {
          tail.push(chunk);
          spec.onOutput?.(chunk);
        },
      });
      const o = outcome({ timedOut: result.status === 'timeout', truncated: tail.truncated || result.logTruncated });
      if (result.status === 'exited') o.exitCode = result.exitCode;
      if (result.status === 'error') o.startError = result.error ?? 'the swarm job failed';
      return o;
    } catch (err) {
      return outcome({ startError: errorMessage(err) });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const packed = await this.body?.catch(() => undefined);
    if (packed) fs.rmSync(path.dirname(packed.body.file), { recursive: true, force: true });
  }
}
