/**
 * The run's relay on the swarm (issue 19): one replica (restarted on failure, at most 3 times),
 * pinned to the Controller's own node (`node.id==<nodeId>`) because it bind-mounts the run folder
 * at `/relay` — the one bind mount of the swarm design — on the run's internal overlay network
 * only, reached by its service name (endpoint mode dnsrr), hardened like a job. Ready when the
 * relay has written `<runDir>/relay.ready` (it does so once it listens).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { RELAY_ENV, RELAY_MOUNT, RELAY_READY_FILE } from '../../contracts/relay-protocol';
import { LABELS, validateSpec } from '../../sandbox/container-spec';
import { ENGINE_CALL_MS, withTimeout } from '../../sandbox/engine-calls';
import { FactoryError, errorMessage } from '../../util/errors';
import { nullLogger, type Logger } from '../../util/log';
import { isGone, relayServiceName, swarmLabels } from './names';

/** The file the relay writes into its run folder once it listens (the wire contract's). */
export { RELAY_READY_FILE };
/** The relay's resources: it streams bundles and results, it does not hold them. */
export const RELAY_RESOURCES = { memoryMb: 512, cpus: 1, pidsLimit: 128, tmpfsMb: 64 } as const;
/** How long the relay may take to be ready (image on the node, network attached, listening). */
export const RELAY_READY_MS = 90_000;

export interface RelayOptions {
  runId: string;
  /** The Controller's run folder (absolute): mounted read-write at `/relay`. */
  runDir: string;
  image: string;
  port: number;
  /** The run's overlay network (id or name). */
  network: string;
  /** The Controller's node (`localNodeId`). */
  nodeId: string;
  /** Numeric non-root `uid:gid` the relay runs as (it must be able to write the run folder). */
  user: string;
  logger?: Logger;
  signal?: AbortSignal;
  /** Default RELAY_READY_MS. */
  readyTimeoutMs?: number;
}

export interface RelayHandle {
  serviceName: string;
  /** `http://<serviceName>:<port>`: the address a task on the run network uses. */
  url: string;
  serviceId: string;
  /** Remove the relay's service (idempotent). */
  stop(): Promise<void>;
}

/** The relay's service body. */
export function relayServiceSpec(o: RelayOptions): Docker.CreateServiceOptions {
  const runDir = path.resolve(o.runDir);
  // The same refusals as any container's mounts (home, a parent of it, .git, the engine socket, a non-root user).
  validateSpec({ image: o.image, cmd: ['node'], user: o.user, mounts: [{ hostPath: runDir, containerPath: RELAY_MOUNT, readOnly: false }], limits: RELAY_RESOURCES, labels: { runId: o.runId, ticket: '', role: 'worker' }, timeoutMs: 1 });
  const labels = swarmLabels({ [LABELS.runId]: o.runId, [LABELS.role]: 'relay' });
  const mem = RELAY_RESOURCES.memoryMb * 1024 * 1024;
  const privileges = { NoNewPrivileges: true } as NonNullable<Docker.ContainerSpec['Privileges']>;
  return {
    Name: relayServiceName(o.runId),
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: o.image,
        Env: [`${RELAY_ENV.port}=${o.port}`, `${RELAY_ENV.dir}=${RELAY_MOUNT}`],
        User: o.user,
        Labels: labels,
        Init: true,
        ReadOnly: true,
        CapabilityDrop: ['ALL'],
        CapabilityAdd: [],
        Privileges: privileges,
        Ulimits: [{ Name: 'nofile', Soft: 4096, Hard: 4096 }, { Name: 'core', Soft: 0, Hard: 0 }],
        Mounts: [
          { Type: 'bind', Source: runDir, Target: RELAY_MOUNT, ReadOnly: false, BindOptions: { Propagation: 'rprivate' } },
          { Type: 'tmpfs', Source: '', Target: '/tmp', TmpfsOptions: { SizeBytes: RELAY_RESOURCES.tmpfsMb * 1024 * 1024, Mode: 0o1777 } },
        ],
        StopGracePeriod: 2_000_000_000,
      },
      Resources: { Limits: { MemoryBytes: mem, NanoCPUs: RELAY_RESOURCES.cpus * 1e9, Pids: RELAY_RESOURCES.pidsLimit } },
      RestartPolicy: { Condition: 'on-failure', MaxAttempts: 3, Delay: 1_000_000_000 },
      Placement: { Constraints: [`node.id==${o.nodeId}`] },
      Networks: [{ Target: o.network }],
    },
    Mode: { Replicated: { Replicas: 1 } },
    EndpointSpec: { Mode: 'dnsrr' },
  };
}

export async function startRelay(docker: Docker, o: RelayOptions): Promise<RelayHandle> {
  const logger = o.logger ?? nullLogger;
  const spec = relayServiceSpec(o);
  const ready = path.join(path.resolve(o.runDir), RELAY_READY_FILE);
  fs.rmSync(ready, { force: true }); // a previous relay's mark says nothing about this one
  let serviceId: string;
  try {
    serviceId = (await withTimeout(docker.createService(spec), ENGINE_CALL_MS, 'service create')).id;
  } catch (err) {
    throw new FactoryError(`cannot create the relay service ${spec.Name ?? ''}: ${errorMessage(err)}`, 'swarm.relay');
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    try {
      await withTimeout(docker.getService(serviceId).remove(), ENGINE_CALL_MS, 'service remove');
    } catch (err) {
      if (!isGone(err)) throw new FactoryError(`cannot remove the relay service: ${errorMessage(err)}`, 'swarm.relay');
    }
    stopped = true;
  };
  try {
    await waitReady(docker, serviceId, ready, o);
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  const serviceName = spec.Name ?? '';
  logger.info(`relay ${serviceName} ready on the run network`);
  return { serviceName, url: `http://${serviceName}:${o.port}`, serviceId, stop };
}

/** Until the ready file exists; rejects when the relay's tasks failed past the restart policy, were rejected, or time ran out. */
async function waitReady(docker: Docker, serviceId: string, ready: string, o: RelayOptions): Promise<void> {
  const deadline = Date.now() + (o.readyTimeoutMs ?? RELAY_READY_MS);
  let last = '';
  for (;;) {
    if (o.signal?.aborted) throw new FactoryError('the relay start was aborted', 'swarm.relay');
    if (fs.existsSync(ready)) return;
    const tasks = (await withTimeout(docker.listTasks({ filters: { service: [serviceId] } }), ENGINE_CALL_MS, 'task list').catch(() => [])) as {
      Status?: { State?: string; Err?: string; Message?: string };
    }[];
    const failed = tasks.filter((t) => t.Status?.State === 'failed' || t.Status?.State === 'rejected');
    const current = tasks.find((t) => !['failed', 'rejected', 'shutdown', 'complete'].includes(t.Status?.State ?? ''));
    const shown = (current ?? failed[0])?.Status;
    if (shown) last = `${shown.State ?? '?'}: ${shown.Err || shown.Message || ''}`;
    if (failed.some((t) => t.Status?.State === 'rejected') || (failed.length > 3 && !current)) {
      const why = failed[0]?.Status?.Err || failed[0]?.Status?.Message || 'no reason given';
      throw new FactoryError(`the relay service failed to start (${failed.length} task(s) failed): ${why}`, 'swarm.relay');
    }
    if (Date.now() > deadline) throw new FactoryError(`the relay did not become ready within ${Math.round((o.readyTimeoutMs ?? RELAY_READY_MS) / 1000)} s (task ${last || 'not scheduled'})`, 'swarm.relay');
    await new Promise((r) => setTimeout(r, 250));
  }
}
