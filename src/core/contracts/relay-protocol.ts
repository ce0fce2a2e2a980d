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

/** Environment of the relay service (`node /opt/factory/relay.js`). */
export const RELAY_ENV = {
  /** TCP port it listens on, on 0.0.0.0 (the overlay network only reaches it). */
  port: 'RELAY_PORT',
  /** The run folder (normally `RELAY_MOUNT`); jobs live in `<dir>/jobs/<jobId>/`. */
  dir: 'RELAY_DIR',
} as const;

/** Written (atomically) into `$RELAY_DIR` once the relay listens: the Controller cannot reach the overlay, so it waits for this file. JSON `{ pid, port, time }`. */
export const RELAY_READY_FILE = 'relay.ready';

/** Limits the relay enforces besides `RelayJobMeta.maxResultBytes`. */
export const RELAY_LIMITS = {
  /** Largest request body forwarded to the model gateway (bytes): past it, 413. */
  modelRequestBytes: 32 * 1024 * 1024,
  /** Concurrent connections the relay accepts. */
  maxConnections: 256,
  /** Request headers must arrive within (ms). */
  headersTimeoutMs: 30_000,
  /** A connection silent this long is cut (ms): longer than the gateway's upstream idle cut (10 min), so its error reaches the task. */
  idleTimeoutMs: 11 * 60_000,
} as const;

/** Files of one job under `<run folder>/jobs/<jobId>/`. */
export const RELAY_JOB_FILES = {
  /**
   * tar: `manifest.json` FIRST (the boot script reads it before anything else), then entries
   * `m<k>/…` for the mounts of `BundleManifest.mounts` (`dir` = `m<k>`; names exactly so: no
   * leading `./` or `/`). ustar, GNU long names and pax `path`/`size` records are understood.
   */
  bundle: 'bundle.tar',
  /** hex sha256 of the job's token (the token itself never touches the disk of the relay's run folder). */
  tokenHash: 'token.sha256',
  /** JSON `RelayJobMeta`. */
  meta: 'meta.json',
  /**
   * tar the task uploaded (written by the relay: `result.tar.part`, then link(2) so one is never replaced). Layout:
   * one GNU-format tar stream (GNU `L`/`K` long-name entries possible), for each WRITABLE mount of
   * the manifest (in manifest order) the entries `<dir>/` and `<dir>/<path>` (`dir` = `m<k>`) —
   * the mount's whole tree as the command left it: files, folders, symlinks as links (never
   * followed), hard links stored as plain files, sockets skipped, owners numeric — then two zero
   * blocks (end of archive). No writable mount: just the two zero blocks. Untrusted: the
   * Controller extracts it like any Worker output.
   */
  result: 'result.tar',
  /** Partial upload (deleted on any failure or past the cap). */
  resultPart: 'result.tar.part',
  /** Marker the relay creates (O_EXCL) when the bundle is first served: a second download gets 410. */
  bundleServed: 'bundle.served',
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
  /**
   * `dir`: the mount's top-level folder in the bundle and in the result archive, `m<k>` (unique);
   * `containerPath`: absolute, no `.`/`..` segment — the boot script extracts `dir/…` there (a
   * mount with no entries in the bundle is just created). The writable ones (`readOnly: false`)
   * are archived back after the command.
   */
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

/**
 * HTTP routes of the relay (all but health need `Authorization: Bearer <job token>`). Answers:
 * 401 no/wrong token (or another job's), 404 a job id not matching `JOB_ID_PATTERN` or an unknown
 * route, 405 a wrong method. `GET bundle`: 200 (Content-Length) once, then 410. `PUT result`: 201,
 * a second upload 409, past `maxResultBytes` 413 (nothing kept). `model/…`: the gateway's answer
 * streamed back, 403 when the job has no gateway, 413 past `RELAY_LIMITS.modelRequestBytes`, 502
 * when the gateway socket does not answer.
 */
export const RELAY_ROUTES = {
  health: '/healthz',
  bundle: (jobId: string) => `/jobs/${jobId}/bundle`,
  result: (jobId: string) => `/jobs/${jobId}/result`,
  /** Prefix: `/jobs/<id>/model/<path>` is forwarded to the gateway as `/<path>`. */
  model: (jobId: string) => `/jobs/${jobId}/model`,
} as const;

/** A job id: what the Controller names a job folder and a service (`[a-z0-9-]`, ≤ 48). */
export const JOB_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,47}$/;

/** The boot script's own failure (bad env or manifest, relay refused, tar failed): its exit code, as `docker run`'s 125. */
export const BOOT_EXIT_CODE = 125;

/**
 * TEST ONLY: a folder the boot script prefixes to every container path of the manifest (mounts,
 * workdir, gateway socket), so it can run on a host. Never set in a real task.
 */
export const BOOT_ROOT_ENV = 'FACTORY_BOOT_ROOT';

/** Environment the swarm task gets (besides the job's own env, which the bundle's manifest carries). */
export const TASK_ENV = {
  relayUrl: 'FACTORY_RELAY_URL',
  jobId: 'FACTORY_JOB_ID',
  /** Path of the file holding the job's token (a swarm secret, mounted by the engine). */
  tokenFile: 'FACTORY_TOKEN_FILE',
} as const;
