/**
 * The relay's image: the worker base image plus the relay bundle (`dist/relay.js`), built locally
 * with a three-line Dockerfile and tagged by a hash of the worker image's id and the bundle, so a
 * new worker image or a new relay makes a new tag and an unchanged pair is reused.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import * as tarStream from 'tar-stream';
import { FactoryError, errorMessage } from '../../util/errors';
import { nullLogger, type Logger } from '../../util/log';

/** The relay's default user in its image (the service sets its own). */
export const RELAY_IMAGE_USER = '1000:1000';
/** Where the relay bundle lives in the image. */
export const RELAY_SCRIPT = '/opt/factory/relay.js';

export interface RelayImageOptions {
  workerImage: string;
  /** Path of the relay bundle on the host. */
  relayBundle: string;
  /** The tag to build (default `agentic-factory/relay:<hash>`). */
  tag?: string;
  logger?: Logger;
}

/** The Dockerfile of the relay image. */
export function relayDockerfile(workerImage: string): string {
  return [`FROM ${workerImage}`, `COPY relay.js ${RELAY_SCRIPT}`, `USER ${RELAY_IMAGE_USER}`, `CMD ["node", "${RELAY_SCRIPT}"]`, ''].join('\n');
}

/** The relay image's tag for a worker image id and a bundle. */
export function relayImageTag(workerImageId: string, bundle: Buffer): string {
  const h = crypto.createHash('sha256').update(workerImageId).update('\0').update(bundle).digest('hex').slice(0, 16);
  return `agentic-factory/relay:${h}`;
}

export async function ensureRelayImage(docker: Docker, opts: RelayImageOptions): Promise<string> {
  const logger = opts.logger ?? nullLogger;
  let workerId: string;
  try {
    workerId = (await docker.getImage(opts.workerImage).inspect()).Id;
  } catch (err) {
    throw new FactoryError(`the worker image ${opts.workerImage} is not on this node: ${errorMessage(err)}`, 'swarm.image');
  }
  let bundle: Buffer;
  try {
    bundle = fs.readFileSync(opts.relayBundle);
  } catch (err) {
    throw new FactoryError(`no relay bundle at ${opts.relayBundle} (run node esbuild.js): ${errorMessage(err)}`, 'swarm.relay');
  }
  const tag = opts.tag ?? relayImageTag(workerId, bundle);
  try {
    await docker.getImage(tag).inspect();
    return tag;
  } catch {
    // not built yet
  }
  logger.info(`building the relay image ${tag} from ${opts.workerImage}`);
  await build(docker, tag, relayDockerfile(workerId), bundle);
  return tag;
}

async function build(docker: Docker, tag: string, dockerfile: string, bundle: Buffer): Promise<void> {
  const pack = tarStream.pack();
  pack.entry({ name: 'Dockerfile', mode: 0o644 }, dockerfile);
  pack.entry({ name: 'relay.js', mode: 0o644 }, bundle);
  pack.finalize();
  try {
    const stream = (await docker.buildImage(pack, { t: tag, rm: true, forcerm: true, pull: false, labels: { 'factory.relay': '1' } })) as unknown as Readable;
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(stream, (err: Error | null, res: { error?: string; errorDetail?: { message?: string } }[]) => {
        const failed = err?.message ?? res.find((r) => r.error)?.error;
        if (failed) reject(new Error(failed));
        else resolve();
      });
    });
  } catch (err) {
    throw new FactoryError(`cannot build the relay image ${tag}: ${errorMessage(err)}`, 'swarm.relay');
  }
}
