import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as os from 'node:os';
import { BOOT_EXIT_CODE, BOOT_ROOT_ENV, JOB_ID_PATTERN, TASK_ENV, type BundleManifest } from '../core/contracts/relay-protocol';
import { fetchBundle } from './boot-bundle';
import { BootError, hostPath } from './boot-manifest';
import { openGatewaySocket, type RelayTarget } from './boot-net';
import { uploadResult } from './boot-result';

// dist/swarm-boot.js: the swarm task's whole life (issue 19), run as `node -e <this bundle>` on the
// image's Node (18 or later). Env: FACTORY_RELAY_URL (http://host:port), FACTORY_JOB_ID,
// FACTORY_TOKEN_FILE; FACTORY_BOOT_ROOT (tests only) prefixes every container path. It downloads
// and extracts the bundle, opens the gateway socket if asked, runs the job's command, uploads the
// writable mounts and exits with the command's code (its own failure: 125).

function target(): RelayTarget {
  const env = process.env;
  const urlText = env[TASK_ENV.relayUrl] ?? '';
  const jobId = env[TASK_ENV.jobId] ?? '';
  const tokenFile = env[TASK_ENV.tokenFile] ?? '';
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    throw new BootError(`${TASK_ENV.relayUrl} is not a URL: ${JSON.stringify(urlText.slice(0, 200))}`);
  }
  if (url.protocol !== 'http:') throw new BootError(`${TASK_ENV.relayUrl} must be http://host:port`);
  if (!JOB_ID_PATTERN.test(jobId)) throw new BootError(`${TASK_ENV.jobId} is not a job id`);
  let token: string;
  try {
    token = fs.readFileSync(tokenFile, 'utf8').trim();
  } catch (err) {
    throw new BootError(`cannot read the token file ${JSON.stringify(tokenFile)} (${TASK_ENV.tokenFile}): ${(err as Error).message}`);
  }
  if (!/^[\x21-\x7e]{1,512}$/.test(token)) throw new BootError('the token file does not hold a token');
  return { url, jobId, token };
}

/** Runs the job's command; resolves its exit code (128 + n when killed by signal n). */
function runCommand(manifest: BundleManifest, root: string | undefined): Promise<number> {
  const cwd = hostPath(root, manifest.workdir);
  try {
    fs.mkdirSync(cwd, { recursive: true });
  } catch {
    // a read-only parent: spawn says so below
  }
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...manifest.env };
  const child = spawn(manifest.cmd[0], manifest.cmd.slice(1), { cwd, env, stdio: 'inherit' });
  const forward = (sig: NodeJS.Signals): void => void child.kill(sig);
  process.on('SIGTERM', forward);
  process.on('SIGINT', forward);
  return new Promise((resolve, reject) => {
    child.on('error', (err) => reject(new BootError(`cannot start ${JSON.stringify(manifest.cmd[0])} in ${cwd}: ${err.message}`)));
    child.on('close', (code, signal) => {
      process.off('SIGTERM', forward);
      process.off('SIGINT', forward);
      resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0));
    });
  });
}

function closeServer(server: http.Server | undefined): Promise<void> {
  if (server === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function boot(): Promise<number> {
  const t = target();
  const root = process.env[BOOT_ROOT_ENV] || undefined;
  const manifest = await fetchBundle(t, root);
  const gateway = manifest.gatewaySocket ? await openGatewaySocket(hostPath(root, manifest.gatewaySocket), t) : undefined;
  const code = await runCommand(manifest, root);
  await closeServer(gateway);
  await uploadResult(t, manifest, root);
  return code;
}

boot().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const message = err instanceof BootError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`factory-boot: ${message}\n`);
    process.exit(BOOT_EXIT_CODE);
  },
);
