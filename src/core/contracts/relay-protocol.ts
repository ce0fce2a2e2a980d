/**
 * The Controller relay's wire protocol (issue 19), shared by the Controller (core/backend/swarm/),
 * the relay service (src/relay/main.ts → dist/relay.js) and the swarm task's boot script
 * (src/relay/boot.ts → dist/swarm-boot.js). L0: constants and shapes only.
 *
 * The relay runs on the run's `--internal` overlay network and nothing else, pinned to the
 * Controller's node, with the run folder bind-mounted at `RELAY_MOUNT`. Per job the Controller
 * writes `jobs/<jobId>/` there: the bundle (the job's input), the sha256 of its one-time token,
 * its limits, and — for a Worker — a Unix socket that forwards to the cycle's metered gateway.
 * The relay writes the job's result archive back into the same folder.
 */

/** Where the relay sees the Controller's run folder. */
export const RELAY_MOUNT = '/relay';

/** Files of one job under `<run folder>/jobs/<jobId>/`. */
export const RELAY_JOB_FILES = {
  /** tar: one top-level folder `m<k>` per mount of the job (see `BundleManifest`), plus `manifest.json`. */
  bundle: 'bundle.tar',
  /** hex sha256 of the job's token (the token itself never touches the disk of the relay's run folder). */
  tokenHash: 'token.sha256',
  /** JSON `RelayJobMeta`. */
  meta: 'meta.json',
  /** tar the task uploaded: a folder `m<k>` per writable mount (written by the relay, atomically: `.part` then rename). */
  result: 'result.tar',
  /** Unix socket (Worker jobs only): the Controller forwards it to the cycle's gateway socket. */
  gatewaySocket: 'gateway.sock',
} as const;

/** `meta.json`: what the relay enforces per job. */
export interface RelayJobMeta {
  schema_version: 1;
  /** Largest result archive accepted (bytes); past it: 413 and nothing kept. */
  maxResultBytes: number;
  /** Whether the job may call the model gateway through the relay. */
  gateway: boolean;
}

/** `manifest.json` at the top of a bundle: where each `m<k>` folder goes inside the task. */
export interface BundleManifest {
  schema_version: 1;
  mounts: { dir: string; containerPath: string; readOnly: boolean }[];
  /** argv the boot script runs once the bundle is in place (the job's own command). */
  cmd: string[];
  /** Extra environment for `cmd` (the job's env; never secrets). */
  env: Record<string, string>;
  /** Working directory of `cmd`. */
  workdir: string;
  /** Container path where the boot script opens a local socket forwarding to the relay's model route (AGENT_PATHS.gatewaySocket), if any. */
  gatewaySocket?: string;
}

/** HTTP routes of the relay (all but health need `Authorization: Bearer <job token>`). */
export const RELAY_ROUTES = {
  health: '/healthz',
  bundle: (jobId: string) => `/jobs/${jobId}/bundle`,
  result: (jobId: string) => `/jobs/${jobId}/result`,
  /** Prefix: `/jobs/<id>/model/<path>` is forwarded to the gateway as `/<path>`. */
  model: (jobId: string) => `/jobs/${jobId}/model`,
} as const;

/** A job id: what the Controller names a job folder and a service (`[a-z0-9-]`, ≤ 48). */
export const JOB_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,47}$/;

/** Environment the swarm task gets (besides the job's own env, which the bundle's manifest carries). */
export const TASK_ENV = {
  relayUrl: 'FACTORY_RELAY_URL',
  jobId: 'FACTORY_JOB_ID',
  /** Path of the file holding the job's token (a swarm secret, mounted by the engine). */
  tokenFile: 'FACTORY_TOKEN_FILE',
} as const;
