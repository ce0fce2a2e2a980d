/** The local engine backend: today's pipeline, unchanged (sandbox/job.ts startJob, gate/container-runner.ts). */
import { ContainerRunner, type ContainerRunnerOptions } from '../gate/container-runner';
import { startJob, type ContainerJob, type JobRunOptions } from '../sandbox/job';
import { errorMessage } from '../util/errors';
import type { BackendCheck, BackendDeps, ExecutionBackend } from './backend';

export function localBackend(deps: Pick<BackendDeps, 'docker' | 'logger'>): ExecutionBackend {
  return {
    kind: 'local',
    startWorker: (job: ContainerJob, opts: JobRunOptions) => startJob(job, { docker: deps.docker, ...opts }),
    gateRunner: (opts: ContainerRunnerOptions) => new ContainerRunner({ docker: deps.docker, ...opts }),
    async check(): Promise<BackendCheck[]> {
      try {
        const v = await deps.docker.version();
        return [{ id: 'local.engine', ok: true, detail: `Docker engine ${v.Version} (API ${v.ApiVersion})` }];
      } catch (err) {
        return [{ id: 'local.engine', ok: false, detail: `no Docker engine: ${errorMessage(err)}`, fix: 'start dockerd, or set DOCKER_HOST' }];
      }
    },
    capacity: () => Promise.resolve(null),
    dispose: () => Promise.resolve(),
  };
}
