/**
 * A job's container spec as a Docker Swarm service (issue 19): the same hardening profile as a
 * local container (`buildCreateOptions` is called and its fields reused, so the two cannot drift),
 * as a `replicated-job` with one completion and no restart, attached only to the run's internal
 * overlay network, with resource reservations equal to the limits so the swarm packs jobs onto
 * nodes with room and queues the rest.
 *
 * Gap: `no-new-privileges` for swarm tasks exists from engine API 1.44 (ContainerSpec.Privileges.
 * NoNewPrivileges). It is always sent; older engines (Docker 20.10 = API 1.41) drop it silently.
 * What compensates there: every capability dropped (a setuid binary gains no capability, and
 * uid 0 without capabilities cannot touch what the task cannot), a numeric non-root user, a
 * read-only root filesystem and size-capped tmpfs only where writes are needed.
 */
import type Docker from 'dockerode';
import { JOB_ID_PATTERN, TASK_ENV } from '../../contracts/relay-protocol';
import { DEFAULT_GRACE_MS, buildCreateOptions, validateSpec, type ContainerSpec } from '../../sandbox/container-spec';
import { FactoryError } from '../../util/errors';

/** Where and how one job runs on the swarm: what a local container gets from its bind mounts and `--network none`. */
export interface SwarmPlacement {
  /** The job's id (`JOB_ID_PATTERN`): names the service `factory-<jobId>` and the relay's job folder. */
  jobId: string;
  /** The run's overlay network (id or name): the only network the task joins. */
  network: string;
  /** Swarm placement constraints, e.g. `node.labels.factory==worker`. */
  constraints: string[];
  /** Extra size-capped writable folders (the job's writable mounts, filled from the bundle by the boot script). */
  tmpfs: { containerPath: string; sizeMb: number }[];
  /** The job's one-time token, a swarm secret mounted at `/run/secrets/<target>`. */
  secret?: { id: string; name: string; target: string };
  /** Task environment on top of the spec's (TASK_ENV: the relay's URL, …). */
  env?: Record<string, string>;
  /** Reserve the limits on the node (default true): the swarm then places only where they fit. */
  reserve?: boolean;
}

/** The service name of a job. */
export function jobServiceName(jobId: string): string {
  return `factory-${jobId}`;
}

/** What differs by engine or clock; defaults: now, the runner's grace period. */
export interface ServiceSpecOptions {
  now?: number;
  graceMs?: number;
}

/** ContainerSpec.Privileges as API 1.44+ reads it (dockerode's types predate NoNewPrivileges). */
type Privileges = NonNullable<Docker.ContainerSpec['Privileges']> & { NoNewPrivileges?: boolean };

/** The swarm service body of a job: refuses what `validateSpec` refuses, and every bind mount. */
export function buildServiceSpec(spec: ContainerSpec, place: SwarmPlacement, opts: ServiceSpecOptions = {}): Docker.CreateServiceOptions {
  validateSpec(spec);
  if (spec.mounts.length > 0) {
    throw new FactoryError(`a swarm job has no bind mounts (its folders come through the relay): ${spec.mounts.map((m) => m.containerPath).join(', ')}`, 'sandbox-spec');
  }
  if (!JOB_ID_PATTERN.test(place.jobId)) throw new FactoryError(`invalid swarm job id "${place.jobId}"`, 'sandbox-spec');
  if (!place.network) throw new FactoryError('a swarm job needs the run network', 'sandbox-spec');
  const local = buildCreateOptions(spec, opts.now ?? Date.now(), opts.graceMs ?? DEFAULT_GRACE_MS);
  const hc = local.HostConfig ?? {};
  const [uid, gid] = (local.User ?? '1000:1000').split(':');
  const limits: Docker.ResourceLimits = { MemoryBytes: hc.Memory ?? 0, NanoCPUs: hc.NanoCpus ?? 0, Pids: spec.limits.pidsLimit };
  const privileges: Privileges = { NoNewPrivileges: true };
  const containerSpec: Docker.ContainerSpec = {
    Image: spec.image,
    Command: spec.cmd,
    Env: [...(local.Env ?? []), ...taskEnv(place)],
    Dir: local.WorkingDir ?? '/workspace',
    User: local.User ?? '1000:1000',
    Labels: local.Labels ?? {},
    Init: true,
    TTY: false,
    OpenStdin: false,
    ReadOnly: true,
    CapabilityDrop: ['ALL'],
    CapabilityAdd: [],
    Privileges: privileges,
    Ulimits: (hc.Ulimits ?? []).map((u) => ({ Name: u.Name, Soft: u.Soft, Hard: u.Hard })),
    Mounts: tmpfsMounts(spec, place),
    StopGracePeriod: 1_000_000_000,
    ...(place.secret ? { Secrets: [{ SecretID: place.secret.id, SecretName: place.secret.name, File: { Name: place.secret.target, UID: uid ?? '1000', GID: gid ?? uid ?? '1000', Mode: 0o400 } }] } : {}),
  };
  return {
    Name: jobServiceName(place.jobId),
    Labels: local.Labels ?? {},
    TaskTemplate: {
      ContainerSpec: containerSpec,
      Resources: { Limits: limits, ...(place.reserve === false ? {} : { Reservations: { MemoryBytes: limits.MemoryBytes, NanoCPUs: limits.NanoCPUs } }) },
      RestartPolicy: { Condition: 'none', MaxAttempts: 0 },
      Placement: { Constraints: [...place.constraints] },
      Networks: [{ Target: place.network }],
    },
    Mode: { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } },
    EndpointSpec: { Mode: 'dnsrr' },
  };
}

/** The task's TASK_ENV: its job id and, with a secret, where the token is. */
function taskEnv(place: SwarmPlacement): string[] {
  const env: Record<string, string> = { ...place.env, [TASK_ENV.jobId]: place.jobId };
  if (place.secret) env[TASK_ENV.tokenFile] = `/run/secrets/${place.secret.target}`;
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

/** `/tmp`, the home and the placement's folders as size-capped tmpfs (swarm tmpfs has no owner option: mode 1777). */
function tmpfsMounts(spec: ContainerSpec, place: SwarmPlacement): Docker.MountSettings[] {
  const size = (mb: number) => Math.floor(mb * 1024 * 1024);
  const seen = new Set<string>();
  const mounts: Docker.MountSettings[] = [];
  const add = (target: string, mb: number) => {
    if (!target.startsWith('/') || seen.has(target)) throw new FactoryError(`swarm tmpfs path must be absolute and unique: ${target}`, 'sandbox-spec');
    if (!(mb >= 1)) throw new FactoryError(`swarm tmpfs ${target} needs a size`, 'sandbox-spec');
    seen.add(target);
    mounts.push({ Type: 'tmpfs', Source: '', Target: target, TmpfsOptions: { SizeBytes: size(mb), Mode: 0o1777 } });
  };
  for (const p of spec.tmpfs ?? ['/tmp', '/home/worker']) add(p, spec.limits.tmpfsMb);
  for (const t of place.tmpfs) add(t.containerPath, t.sizeMb);
  return mounts;
}
