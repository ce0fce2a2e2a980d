import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { LABELS } from '../../../src/core/sandbox/container';

/** The Debian-built base image (scripts/build-worker-image.sh); tests never pull. */
export const WORKER_IMAGE = process.env.FACTORY_WORKER_IMAGE ?? 'agentic-factory/worker-base:bookworm';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Build the base image if it is missing (cached by tag; ≈ 1 min the first time). */
export function ensureWorkerImage(): void {
  try {
    execFileSync('docker', ['image', 'inspect', WORKER_IMAGE], { stdio: 'ignore' });
  } catch {
    execFileSync('bash', [path.join(ROOT, 'scripts', 'build-worker-image.sh'), WORKER_IMAGE], { stdio: 'inherit' });
  }
}

/** Factory containers carrying a run id (all states). */
export async function labelledContainers(docker: Docker, runId: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${LABELS.runId}=${runId}`] } });
}

/**
 * A hash of a whole tree: every entry's path, type, mode and content (symlink targets, not what
 * they point to). Two equal hashes mean a byte-identical tree, ignored files included.
 */
export function hashTree(root: string): string {
  const h = crypto.createHash('sha256');
  const walk = (rel: string) => {
    const abs = path.join(root, rel);
    const entries = fs.readdirSync(abs, { withFileTypes: true }).map((e) => e.name).sort();
    for (const name of entries) {
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(path.join(root, r));
      h.update(`${r}\0${st.mode}\0`);
      if (st.isDirectory()) walk(r);
      else if (st.isSymbolicLink()) h.update(fs.readlinkSync(path.join(root, r)));
      else if (st.isFile()) h.update(fs.readFileSync(path.join(root, r)));
      h.update('\0');
    }
  };
  walk('');
  return h.digest('hex');
}
