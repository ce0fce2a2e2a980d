/**
 * The example docs/scale.md shows: the manifests of one run and one Worker job, made by the code
 * (src/core/backend/k8s/manifests.ts) from a Worker `ContainerJob` shaped like the cycle's
 * (sandbox/worker-job.ts). Print it: `npx tsx test/unit/backend/k8s/print-example.ts`.
 */
import { containerJobManifests, runManifests, type K8sRun } from '../../../../src/core/backend/k8s/manifests';
import { AGENT_PATHS } from '../../../../src/core/agents/task';
import { toYaml } from './yaml';
import { DEFAULT_JOB_LIMITS, SANDBOX_PATHS, type ContainerJob } from '../../../../src/core/sandbox/job';

export const EXAMPLE_RUN: K8sRun = {
  namespace: 'factory',
  runId: 'run-4711-m1abc',
  relayImage: 'agentic-factory/relay:latest',
  relayPort: 8080,
  runVolume: { kind: 'hostPath', path: '/var/lib/factory/runs/run-4711-m1abc', node: 'controller-1' },
  nodeSelector: { 'factory/worker': 'true' },
};

/** Host folders as the cycle's Worker has them (the paths do not matter on Kubernetes: the bundle carries them). */
export const EXAMPLE_WORKER_JOB: ContainerJob = {
  role: 'worker',
  image: 'agentic-factory/worker:latest',
  cmd: ['node', AGENT_PATHS.runtime],
  mounts: [
    { hostPath: '/srv/staging/copy', containerPath: SANDBOX_PATHS.workspace, readOnly: false },
    { hostPath: '/srv/staging/plan', containerPath: SANDBOX_PATHS.planDir, readOnly: true },
    { hostPath: '/srv/staging/out', containerPath: SANDBOX_PATHS.outDir, readOnly: false },
    { hostPath: '/srv/staging/task', containerPath: AGENT_PATHS.taskDir, readOnly: true },
    { hostPath: '/srv/staging/agent', containerPath: AGENT_PATHS.agentOut, readOnly: false },
  ],
  env: { FACTORY_PLAN: SANDBOX_PATHS.plan },
  limits: DEFAULT_JOB_LIMITS,
  user: '1000:1000',
  labels: { runId: EXAMPLE_RUN.runId, ticket: 'D1-1' },
  timeoutMs: 30 * 60_000,
};

export const EXAMPLE_JOB_ID = 'w-d1-1-0';
/** A placeholder: the Controller makes a random one per job. */
export const EXAMPLE_TOKEN = '<one-time token, 32 random bytes, base64url>';

/** Stands for the text of dist/swarm-boot.js. */
export const EXAMPLE_BOOT_SCRIPT = '/* the text of dist/swarm-boot.js */';

/** The run's objects, then the Worker job's Job and Secret. */
export function exampleManifests(): unknown[] {
  return [...runManifests(EXAMPLE_RUN, EXAMPLE_BOOT_SCRIPT), ...containerJobManifests(EXAMPLE_WORKER_JOB, EXAMPLE_JOB_ID, EXAMPLE_TOKEN, EXAMPLE_RUN)];
}

/** Every example object as YAML documents (`kubectl apply -f` takes it). */
export function exampleText(): string {
  return toYaml(exampleManifests());
}

/** What docs/scale.md shows: the Worker's Job and the job pods' NetworkPolicy. */
export function docsExampleText(): string {
  const [jobPolicy] = runManifests(EXAMPLE_RUN, EXAMPLE_BOOT_SCRIPT);
  const [job] = containerJobManifests(EXAMPLE_WORKER_JOB, EXAMPLE_JOB_ID, EXAMPLE_TOKEN, EXAMPLE_RUN);
  return toYaml([job, jobPolicy]);
}
