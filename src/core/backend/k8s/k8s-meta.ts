/**
 * Kubernetes on paper (issue 19): the names, labels and options every generated manifest shares.
 * Pure: no I/O, no clock. See manifests.ts and docs/scale.md.
 */
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { ISecurityContext as SecurityContext } from 'kubernetes-models/v1/SecurityContext';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import { JOB_ID_PATTERN, RELAY_MOUNT } from '../../contracts/relay-protocol';
import { LABELS } from '../../sandbox/container-spec';
import { FactoryError } from '../../util/errors';

export type ObjectMeta = NonNullable<IJob['metadata']>;
export type { SecurityContext };

/** Where the relay finds the Controller's run folder (the swarm relay's bind mount, in Kubernetes terms). */
export type RunVolume =
  /** The Controller's machine is a node: the relay is pinned to it and mounts the run folder (the swarm layout). */
  | { kind: 'hostPath'; path: string; node: string }
  /** The Controller runs in the cluster and shares a volume with the relay (the gateway socket needs both on one node: ReadWriteOnce). */
  | { kind: 'claim'; claimName: string };

/** What a run's manifests are made from: the same facts the swarm backend has. */
export interface K8sRun {
  namespace: string;
  /** The run's id (`RunSession`'s), a DNS label. */
  runId: string;
  relayImage: string;
  /** The relay's argv (default: the image's entrypoint). */
  relayCmd?: string[];
  relayPort: number;
  runVolume: RunVolume;
  /** Finished Jobs (and their pods) are deleted after this many seconds (default 600). */
  ttlSecondsAfterFinished?: number;
  /** Node selector of the job pods (the swarm's placement constraints), e.g. `{ 'factory/worker': 'true' }`. */
  nodeSelector?: Record<string, string>;
  /** The numeric `uid:gid` of the relay's process (default 65534:65534). */
  relayUser?: string;
}

/** Labels only Kubernetes objects carry: which part of a run a pod is (`job` pods reach only `relay` pods). */
export const K8S_LABELS = { component: 'factory.component', job: 'factory.job_id' } as const;

/** Where a job pod finds the task's boot script (dist/swarm-boot.js, from the run's ConfigMap): it fetches the bundle from the relay and runs the job's own command. */
export const BOOT_DIR = '/opt/factory/boot';
export const BOOT_KEY = 'swarm-boot.js';

/** Where a job pod finds its one-time token (the swarm secret's mount, in Kubernetes terms). */
export const TOKEN_DIR = '/run/secrets/factory';
export const TOKEN_KEY = 'token';

/** A value Kubernetes accepts as a label value (≤ 63, alphanumeric ends, `-_.` inside). */
export function labelValue(v: string): string {
  const cleaned = v.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63);
  return cleaned.replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '');
}

/** A DNS-1123 label name (Job, Service, Secret, Deployment): `prefix-<id>`, refused when it cannot be one. */
export function objectName(prefix: string, id: string): string {
  const name = `${prefix}-${id}`.toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(name)) throw new FactoryError(`not a Kubernetes object name: ${name}`, 'sandbox-spec');
  return name;
}

/** A job id as the relay protocol allows it (the Secret, the Job and the relay's job folder share it). */
export function checkJobId(jobId: string): string {
  if (!JOB_ID_PATTERN.test(jobId)) throw new FactoryError(`not a relay job id: ${jobId}`, 'sandbox-spec');
  return jobId;
}

export function relayName(run: K8sRun): string {
  return objectName('factory-relay', run.runId);
}

/** `http://<relay Service>.<namespace>.svc:<port>`: the headless Service resolves to the relay pod itself (the swarm's dnsrr). */
export function relayUrl(run: K8sRun): string {
  return `http://${relayName(run)}.${run.namespace}.svc:${run.relayPort}`;
}

/** The labels every object of the run carries (the run's clean-up: `kubectl delete all,secret,networkpolicy -l factory.run_id=<run>`). */
export function runLabels(run: K8sRun, component: 'job' | 'relay'): Record<string, string> {
  return { [LABELS.managed]: '1', [LABELS.runId]: labelValue(run.runId), [K8S_LABELS.component]: component };
}

export function meta(run: K8sRun, name: string, labels: Record<string, string>, annotations?: Record<string, string>): ObjectMeta {
  return { name, namespace: run.namespace, labels, ...(annotations && Object.keys(annotations).length ? { annotations } : {}) };
}

/** `uid:gid` → numbers (the spec's user is validated numeric and non-root before this). */
export function numericUser(user: string): { uid: number; gid: number } {
  const [uid, gid] = user.split(':');
  return { uid: Number(uid), gid: Number(gid ?? uid) };
}

/** The container hardening of every pod (the local pipeline's CapDrop ALL, no-new-privileges, read-only root, non-root user). */
export function hardenedContext(user: string): SecurityContext {
  const { uid, gid } = numericUser(user);
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: gid,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** The run folder's volume in the relay pod, and where the relay pod may run. */
export function runVolumeOf(run: K8sRun): { volume: IVolume; nodeSelector?: Record<string, string>; mountPath: string } {
  const v = run.runVolume;
  if (v.kind === 'claim') return { volume: { name: 'run', persistentVolumeClaim: { claimName: v.claimName } }, mountPath: RELAY_MOUNT };
  return { volume: { name: 'run', hostPath: { path: v.path, type: 'Directory' } }, nodeSelector: { 'kubernetes.io/hostname': v.node }, mountPath: RELAY_MOUNT };
}

/** MiB as a Kubernetes quantity. */
export const mib = (n: number): string => `${Math.ceil(n)}Mi`;
/** CPUs as a Kubernetes quantity (millicores). */
export const cpu = (n: number): string => `${Math.max(1, Math.round(n * 1000))}m`;
