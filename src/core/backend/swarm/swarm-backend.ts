/**
 * The Docker Swarm backend (issue 19): the Worker and every Gate step as swarm replicated jobs
 * that reach the Controller only through the run's relay (backend/swarm/: the relay, the bundle
 * and result transfer, the gateway forward). Opening it checks that the engine is a swarm manager
 * and this machine a node of it (the relay runs here, beside the run folder); the run folder,
 * network and relay are made at the first job, and `dispose` removes all of it.
 */
import type Docker from 'dockerode';
import type { FactoryConfig } from '../../config/schema';
import { connectDocker, type DockerEnv } from '../../docker/connect';
import type { ContainerRunnerOptions } from '../../gate/container-runner';
import { jobLimits, type ContainerJob, type JobRunOptions } from '../../sandbox/job';
import { FactoryError, errorMessage } from '../../util/errors';
import type { BackendDeps, ExecutionBackend } from '../backend';
import { localNodeId, swarmCapacity, swarmChecks } from './swarm-check';
import { SwarmGateRunner } from './swarm-gate-runner';
import { reapSwarmOrphans } from './swarm-reaper';
import { SwarmRun } from './swarm-run';
import { startSwarmWorker } from './swarm-worker';

/** The swarm manager's engine: `engine.swarm.host` (with its TLS folder) when set, else the run's own engine. */
async function managerEngine(config: FactoryConfig, deps: BackendDeps): Promise<Docker> {
  const s = config.engine.swarm;
  if (!s.host) return deps.docker;
  const env: DockerEnv = { DOCKER_HOST: s.host, ...(s.certPath ? { DOCKER_CERT_PATH: s.certPath } : {}), DOCKER_TLS_VERIFY: s.certPath && s.tlsVerify ? '1' : '', ...(process.env.HOME ? { HOME: process.env.HOME } : {}), ...(process.env.SSH_AUTH_SOCK ? { SSH_AUTH_SOCK: process.env.SSH_AUTH_SOCK } : {}) };
  try {
    return (await connectDocker({ env, ...(deps.signal ? { signal: deps.signal } : {}) })).docker;
  } catch (err) {
    throw new FactoryError(`engine.backend is "swarm" but the manager at ${s.host} does not answer: ${errorMessage(err)} (check engine.swarm.host and engine.swarm.certPath)`, 'swarm.unavailable');
  }
}

/** Refuse a swarm that cannot run a job: no manager, or this machine no node of it. */
async function assertUsable(manager: Docker, local: Docker): Promise<void> {
  const info = (await manager.info().catch(() => ({}))) as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } };
  if (info.Swarm?.LocalNodeState !== 'active' || !info.Swarm.ControlAvailable) {
    throw new FactoryError(
      `engine.backend is "swarm" but the engine is no swarm manager (swarm state ${info.Swarm?.LocalNodeState ?? 'unknown'}): run \`docker swarm init\` here, or set engine.swarm.host to a manager; \`factory doctor\` lists what is missing`,
      'swarm.unavailable',
    );
  }
  let nodeId: string;
  try {
    nodeId = await localNodeId(local);
  } catch {
    throw new FactoryError('engine.backend is "swarm" but this machine is no node of the swarm (the relay runs here, beside the run folder): `docker swarm join` it to the swarm', 'swarm.unavailable');
  }
  if (manager !== local) {
    const nodes = (await manager.listNodes().catch(() => [])) as { ID?: string }[];
    if (!nodes.some((n) => n.ID === nodeId)) throw new FactoryError(`this machine's engine is swarm node ${nodeId}, which the manager at engine.swarm.host does not know: join this machine to that swarm`, 'swarm.unavailable');
  }
}

export async function swarmBackend(config: FactoryConfig, deps: BackendDeps): Promise<ExecutionBackend> {
  const docker = await managerEngine(config, deps);
  await assertUsable(docker, deps.docker);
  // Services, networks and secrets of a Controller that died (or jobs past their deadline): gone before this run adds its own.
  await reapSwarmOrphans(docker, deps.logger ? { logger: deps.logger } : {}).catch((err: unknown) => deps.logger?.warn(`swarm reaper: ${errorMessage(err)}`));
  const run = new SwarmRun({ docker, localDocker: deps.docker, config, runId: deps.runId, ...(deps.logger ? { logger: deps.logger } : {}), ...(deps.signal ? { signal: deps.signal } : {}) });
  return {
    kind: 'swarm',
    startWorker: (job: ContainerJob, opts: JobRunOptions) => startSwarmWorker(run, job, opts),
    gateRunner: (opts: ContainerRunnerOptions) => new SwarmGateRunner(run, opts),
    check: () => swarmChecks(docker, config),
    capacity: () => swarmCapacity(docker, jobLimits(config.worker)),
    dispose: () => run.dispose(),
  };
}
