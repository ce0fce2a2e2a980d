/**
 * Kubernetes on paper (issue 19): the execution backend's jobs as Kubernetes objects, made from
 * the SAME `ContainerJob` as a local container or a swarm service (`buildJobSpec` → ContainerSpec,
 * `validateSpec`), so the hardening cannot drift. One pure function per kind:
 *
 * - a Worker or Gate job → a `batch/v1 Job` (one pod, no retry, the time cap as
 *   `activeDeadlineSeconds`, the hardening as a securityContext, limits = requests, every host
 *   folder of the job as a size-capped `emptyDir` the boot script fills from the relay, `/tmp` and
 *   the home as memory-backed `emptyDir`s, no service-account token) + its one-time token `Secret`;
 * - the run's relay → a `Deployment` + headless `Service` (the swarm's dnsrr endpoint); the task's
 *   boot script → a `ConfigMap` every job pod mounts read-only;
 * - two `NetworkPolicy`s: the run's job pods may reach the relay pods (and cluster DNS) and nothing
 *   else, nothing reaches them; the relay accepts only the run's job pods and reaches nothing (it
 *   forwards model calls through the run folder's Unix socket to the Controller's gateway).
 *
 * Nothing here talks to a cluster: docs/scale.md shows the output, and
 * test/unit/backend/k8s/manifests.test.ts validates it against the Kubernetes schemas.
 */
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import { RELAY_ENV, TASK_ENV } from '../../contracts/relay-protocol';
import { buildJobSpec, type ContainerJob } from '../../sandbox/job';
import { DEFAULT_GRACE_MS, LABELS, validateSpec, type ContainerSpec } from '../../sandbox/container-spec';
import { FactoryError } from '../../util/errors';
import {
  BOOT_DIR, BOOT_KEY, K8S_LABELS, TOKEN_DIR, TOKEN_KEY, checkJobId, cpu, hardenedContext, labelValue, meta, mib, numericUser, objectName, relayName, relayUrl, runLabels, runVolumeOf,
  type K8sRun,
} from './k8s-meta';

export type { K8sRun, RunVolume } from './k8s-meta';

/** Default: finished Jobs are deleted ten minutes after they end. */
export const DEFAULT_TTL_SECONDS = 600;

/** The name of a job's Job object (the swarm's service name, `factory-<jobId>`). */
export function jobName(jobId: string): string {
  return objectName('factory', checkJobId(jobId));
}

/** The name of a job's token Secret. */
export function tokenSecretName(jobId: string): string {
  return objectName('factory-token', checkJobId(jobId));
}

/** The labels of one job's pod: the run's, its role, ticket and job id. */
function jobLabels(spec: ContainerSpec, jobId: string, run: K8sRun): Record<string, string> {
  return { ...runLabels(run, 'job'), [LABELS.role]: spec.labels.role, [LABELS.ticket]: labelValue(spec.labels.ticket), [K8S_LABELS.job]: jobId };
}

/** The job's host folders (filled by the boot script from the relay), `/tmp` and the home, and the token. */
function jobVolumes(spec: ContainerSpec, jobId: string, run: K8sRun): { volumes: IVolume[]; mounts: NonNullable<IContainer['volumeMounts']> } {
  const volumes: IVolume[] = [];
  const mounts: NonNullable<IContainer['volumeMounts']> = [];
  const seen = new Set<string>();
  const add = (name: string, mountPath: string, volume: Omit<IVolume, 'name'>, readOnly = false) => {
    if (seen.has(mountPath)) throw new FactoryError(`two volumes at ${mountPath}`, 'sandbox-spec');
    seen.add(mountPath);
    volumes.push({ name, ...volume });
    mounts.push({ name, mountPath, ...(readOnly ? { readOnly } : {}) });
  };
  // `m<k>` like the bundle's folders; one file can never exceed the growth cap, so no folder can either.
  spec.mounts.forEach((m, k) => add(`m${k}`, m.containerPath, { emptyDir: { sizeLimit: mib(spec.limits.fileSizeMb ?? 1024) } }));
  (spec.tmpfs ?? ['/tmp', '/home/worker']).forEach((p, k) => add(`tmp${k}`, p, { emptyDir: { medium: 'Memory', sizeLimit: mib(spec.limits.tmpfsMb) } }));
  add('boot', BOOT_DIR, { configMap: { name: bootConfigMapName(run), defaultMode: 0o444, items: [{ key: BOOT_KEY, path: BOOT_KEY }] } }, true);
  add('token', TOKEN_DIR, { secret: { secretName: tokenSecretName(jobId), defaultMode: 0o440, items: [{ key: TOKEN_KEY, path: TOKEN_KEY }] } }, true);
  return { volumes, mounts };
}

/** The job pod's one container: the boot script, the spec's environment and the relay's coordinates. */
function jobContainer(spec: ContainerSpec, jobId: string, run: K8sRun, mounts: NonNullable<IContainer['volumeMounts']>): IContainer {
  const env = { ...spec.env, [TASK_ENV.relayUrl]: relayUrl(run), [TASK_ENV.jobId]: jobId, [TASK_ENV.tokenFile]: `${TOKEN_DIR}/${TOKEN_KEY}` };
  const resources = { memory: mib(spec.limits.memoryMb), cpu: cpu(spec.limits.cpus) };
  return {
    name: spec.labels.role,
    image: spec.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['node', `${BOOT_DIR}/${BOOT_KEY}`],
    workingDir: spec.workdir ?? '/workspace',
    env: Object.entries(env).map(([name, value]) => ({ name, value })),
    // requests = limits: the Guaranteed class, and the scheduler packs jobs only where they fit (the swarm's reservations).
    resources: { limits: resources, requests: resources },
    securityContext: hardenedContext(spec.user ?? '1000:1000'),
    volumeMounts: mounts,
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

/**
 * A Worker or Gate job as a `batch/v1 Job`: refuses what `validateSpec` refuses (root, no limits,
 * `.git` or the engine socket among the folders). `spec.cmd` is not the pod's command: the boot
 * script runs it from the bundle's manifest, like a swarm task.
 */
export function jobManifest(spec: ContainerSpec, jobId: string, run: K8sRun): IJob {
  validateSpec(spec);
  const labels = jobLabels(spec, jobId, run);
  const { volumes, mounts } = jobVolumes(spec, jobId, run);
  const user = numericUser(spec.tmpfsOwner ?? spec.user ?? '1000:1000');
  const annotations = { [LABELS.ticket]: spec.labels.ticket, ...(spec.labels.repo ? { [LABELS.repo]: spec.labels.repo } : {}) };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta(run, jobName(jobId), labels, annotations),
    spec: {
      backoffLimit: 0,
      completions: 1,
      parallelism: 1,
      activeDeadlineSeconds: Math.max(1, Math.ceil(spec.timeoutMs / 1000)),
      ttlSecondsAfterFinished: run.ttlSecondsAfterFinished ?? DEFAULT_TTL_SECONDS,
      template: {
        metadata: { labels, annotations },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          hostNetwork: false,
          hostPID: false,
          hostIPC: false,
          shareProcessNamespace: false,
          terminationGracePeriodSeconds: Math.ceil(DEFAULT_GRACE_MS / 1000),
          // fsGroup: the emptyDirs and the token belong to the job's group (tmpfs uid/gid locally).
          securityContext: { runAsNonRoot: true, runAsUser: user.uid, runAsGroup: user.gid, fsGroup: user.gid, seccompProfile: { type: 'RuntimeDefault' } },
          ...(run.nodeSelector && Object.keys(run.nodeSelector).length ? { nodeSelector: { ...run.nodeSelector } } : {}),
          containers: [jobContainer(spec, jobId, run, mounts)],
          volumes,
        },
      },
    },
  };
}

/** The job's one-time token (the relay keeps only its sha256); mounted read-only at `TOKEN_DIR` in that job's pod alone. */
export function tokenSecret(jobId: string, token: string, run: K8sRun): ISecret {
  if (token.length < 16) throw new FactoryError('a job token is at least 16 characters', 'sandbox-spec');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(run, tokenSecretName(jobId), { ...runLabels(run, 'job'), [K8S_LABELS.job]: jobId }),
    type: 'Opaque',
    immutable: true,
    stringData: { [TOKEN_KEY]: token },
  };
}

/** A `ContainerJob` (the local pipeline's description) → its Job and token Secret. */
export function containerJobManifests(job: ContainerJob, jobId: string, token: string, run: K8sRun): [IJob, ISecret] {
  return [jobManifest(buildJobSpec(job), jobId, run), tokenSecret(jobId, token, run)];
}

/** The name of the run's boot-script ConfigMap. */
export function bootConfigMapName(run: K8sRun): string {
  return objectName('factory-boot', run.runId);
}

/** The task's boot script (the text of dist/swarm-boot.js) for every job pod of the run, read-only. */
export function bootConfigMap(run: K8sRun, script: string): IConfigMap {
  if (Buffer.byteLength(script) > 900 * 1024) throw new FactoryError('the boot script does not fit a ConfigMap (1 MiB)', 'sandbox-spec');
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(run, bootConfigMapName(run), runLabels(run, 'job')), immutable: true, data: { [BOOT_KEY]: script } };
}

/** The relay pod's selector labels. */
function relayLabels(run: K8sRun): Record<string, string> {
  return runLabels(run, 'relay');
}

/** The run's relay: one pod, on the node that holds the run folder (or with the Controller's shared claim). */
export function relayDeployment(run: K8sRun): IDeployment {
  const labels = relayLabels(run);
  const vol = runVolumeOf(run);
  const container: IContainer = {
    name: 'relay',
    image: run.relayImage,
    imagePullPolicy: 'IfNotPresent',
    ...(run.relayCmd ? { command: [...run.relayCmd] } : {}),
    ports: [{ name: 'relay', containerPort: run.relayPort, protocol: 'TCP' }],
    env: [{ name: RELAY_ENV.port, value: String(run.relayPort) }, { name: RELAY_ENV.dir, value: vol.mountPath }],
    resources: { limits: { memory: '256Mi', cpu: '500m' }, requests: { memory: '256Mi', cpu: '500m' } },
    securityContext: hardenedContext(run.relayUser ?? '65534:65534'),
    readinessProbe: { httpGet: { path: '/healthz', port: 'relay' }, periodSeconds: 2 },
    volumeMounts: [{ name: 'run', mountPath: vol.mountPath }, { name: 'tmp', mountPath: '/tmp' }],
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(run, relayName(run), labels),
    spec: {
      replicas: 1,
      strategy: { type: 'Recreate' },
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          ...(vol.nodeSelector ? { nodeSelector: vol.nodeSelector } : {}),
          containers: [container],
          volumes: [vol.volume, { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } }],
        },
      },
    },
  };
}

/** A headless Service: the relay's name resolves to its pod's address (no virtual IP; the swarm's dnsrr). */
export function relayService(run: K8sRun): IService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(run, relayName(run), relayLabels(run)),
    spec: {
      clusterIP: 'None',
      selector: relayLabels(run),
      ports: [{ name: 'relay', port: run.relayPort, targetPort: 'relay', protocol: 'TCP' }],
    },
  };
}

/** The run's job pods: no ingress; egress only to the run's relay pods on the relay port, and to the cluster DNS. */
export function jobNetworkPolicy(run: K8sRun): INetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(run, objectName('factory-jobs', run.runId), runLabels(run, 'job')),
    spec: {
      podSelector: { matchLabels: runLabels(run, 'job') },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [],
      egress: [
        { to: [{ podSelector: { matchLabels: relayLabels(run) } }], ports: [{ protocol: 'TCP', port: run.relayPort }] },
        {
          to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
        },
      ],
    },
  };
}

/** The relay: ingress only from the run's job pods on the relay port; no egress (the gateway is a Unix socket in the run folder). */
export function relayNetworkPolicy(run: K8sRun): INetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(run, objectName('factory-relay-only', run.runId), relayLabels(run)),
    spec: {
      podSelector: { matchLabels: relayLabels(run) },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: { matchLabels: runLabels(run, 'job') } }], ports: [{ protocol: 'TCP', port: run.relayPort }] }],
      egress: [],
    },
  };
}

/** Everything a run applies before its first job: the two policies, the relay, and the boot script. */
export function runManifests(run: K8sRun, bootScript: string): [INetworkPolicy, INetworkPolicy, IDeployment, IService, IConfigMap] {
  return [jobNetworkPolicy(run), relayNetworkPolicy(run), relayDeployment(run), relayService(run), bootConfigMap(run, bootScript)];
}
