import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { LABELS } from '../../../src/core/sandbox/container-spec';

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

/** A writable host folder of a container, as the host sees it while the container exists. */
export interface WritableFolder {
  source: string;
  destination: string;
  mode: number;
  uid: number;
  gid: number;
}

/** What a test learns about one Factory container while it exists. */
export interface CapturedContainer {
  id: string;
  /** The container's labels, from the engine's create event (known even when the inspection failed). */
  labels: Record<string, string>;
  /** `docker inspect`, taken on the create event: the container cannot be removed before it starts and exits. */
  info?: Docker.ContainerInspectInfo;
  /** Why the inspection failed (the container was already gone). */
  error?: string;
  /** stat of every writable bind mount's host folder, taken right after the inspection. */
  writable: WritableFolder[];
}

/** A running capture: `stop()` ends the event stream and returns what was captured. */
export interface ContainerCapture {
  stop(): Promise<CapturedContainer[]>;
}

/**
 * Inspect every Factory container the engine creates from now on, whoever creates it (this
 * process, a CLI child, a runner deep in the cycle): the engine's event stream, filtered on
 * `factory.managed=1` and `create`, replayed from a second before the call so that no creation can
 * slip between subscribing and the run starting. Each container is inspected (and its writable
 * host folders stat'ed) as soon as its create event arrives, which is before it can even start.
 */
export async function captureContainers(docker: Docker): Promise<ContainerCapture> {
  const since = Math.floor(Date.now() / 1000) - 1;
  const stream = (await docker.getEvents({ since, filters: { type: ['container'], event: ['create'], label: [`${LABELS.managed}=1`] } })) as NodeJS.ReadableStream & { destroy(): void };
  const pending: Promise<CapturedContainer>[] = [];
  const seen = new Set<string>();
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines.filter((l) => l.trim())) {
      const ev = JSON.parse(line) as { id?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
      const id = ev.Actor?.ID ?? ev.id;
      if (!id || seen.has(id)) continue;
      seen.add(id);
      pending.push(inspectNow(docker, id, ev.Actor?.Attributes ?? {}));
    }
  });
  stream.on('error', () => undefined);
  return {
    async stop() {
      stream.destroy();
      return Promise.all(pending);
    },
  };
}

async function inspectNow(docker: Docker, id: string, labels: Record<string, string>): Promise<CapturedContainer> {
  try {
    const info = await docker.getContainer(id).inspect();
    const writable = info.Mounts.filter((m) => m.Type === 'bind' && m.RW).map((m) => {
      const st = fs.statSync(m.Source);
      return { source: m.Source, destination: m.Destination, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    });
    return { id, labels, info, writable };
  } catch (err) {
    return { id, labels, error: err instanceof Error ? err.message : String(err), writable: [] };
  }
}

/** True once the engine no longer knows the container (removed). */
export async function containerGone(docker: Docker, id: string): Promise<boolean> {
  try {
    await docker.getContainer(id).inspect();
    return false;
  } catch (err) {
    return (err as { statusCode?: number }).statusCode === 404;
  }
}

const MIB = 1024 * 1024;

/** What SECURITY 1 requires of one container, with the limits its caller configured. */
export interface Hardening {
  role: 'worker' | 'gate' | 'auditor';
  runId: string;
  limits: { memoryMb: number; cpus: number; pidsLimit: number; tmpfsMb: number };
  /** The RLIMIT_FSIZE the container must get (MiB); absent: any positive cap. */
  fileSizeMb?: number;
  /** `hostname:pid` of the Controller that must own it; absent: any. */
  owner?: string;
  /** Host folders no mount may be or be inside (the user's repository). */
  hostRoots?: string[];
}

/**
 * Assert the whole hardening profile on a real `docker inspect` (SECURITY 1): no network, no
 * capabilities, no-new-privileges, read-only root, not privileged, the configured pids / memory
 * (no swap on top) / CPU / tmpfs / file-size limits, a numeric non-root user, no engine socket,
 * home or .git mounted, and the labels the reaper relies on. Returns the container's uid.
 */
export function assertHardened(info: Docker.ContainerInspectInfo, want: Hardening): number {
  const what = `${want.role} container ${info.Id.slice(0, 12)}`;
  const hc = info.HostConfig;
  assert.equal(hc.NetworkMode, 'none', `${what}: network`);
  assert.deepEqual(hc.CapDrop, ['ALL'], `${what}: capabilities dropped`);
  assert.ok(!hc.CapAdd?.length, `${what}: no capability added`);
  assert.ok(hc.SecurityOpt?.some((o: string) => /^no-new-privileges(:true)?$/.test(o)), `${what}: no-new-privileges (${String(hc.SecurityOpt)})`);
  assert.equal(hc.ReadonlyRootfs, true, `${what}: read-only root`);
  assert.equal(hc.Privileged, false, `${what}: not privileged`);
  assert.equal(hc.PidsLimit, want.limits.pidsLimit, `${what}: pids limit`);
  assert.equal(hc.Memory, want.limits.memoryMb * MIB, `${what}: memory limit`);
  assert.equal(hc.MemorySwap, hc.Memory, `${what}: no swap on top of the memory limit`);
  assert.equal(hc.NanoCpus, Math.round(want.limits.cpus * 1e9), `${what}: CPU limit`);
  const fsize = (hc.Ulimits ?? []).find((u) => u.Name === 'fsize');
  assert.ok(fsize && (fsize.Soft ?? 0) > 0 && fsize.Hard === fsize.Soft, `${what}: a file-size limit (${JSON.stringify(hc.Ulimits)})`);
  if (want.fileSizeMb !== undefined) assert.equal(fsize.Hard, want.fileSizeMb * MIB, `${what}: file-size limit = the workspace cap (${want.fileSizeMb} MiB)`);
  const tmpfs = Object.entries((hc as { Tmpfs?: Record<string, string> }).Tmpfs ?? {});
  assert.ok(tmpfs.length > 0, `${what}: writable scratch space is tmpfs`);
  for (const [dir, opts] of tmpfs) {
    assert.ok(opts.split(',').includes(`size=${want.limits.tmpfsMb}m`), `${what}: tmpfs ${dir} capped at ${want.limits.tmpfsMb} MiB (${opts})`);
    assert.ok(opts.split(',').includes('nosuid'), `${what}: tmpfs ${dir} nosuid`);
  }
  const user = /^(\d+):(\d+)$/.exec(info.Config.User);
  assert.ok(user && Number(user[1]) !== 0 && Number(user[2]) !== 0, `${what}: numeric non-root user, got "${info.Config.User}"`);
  const home = os.homedir();
  for (const m of info.Mounts) {
    assert.ok(!m.Source.split('/').some((s) => s.toLowerCase() === '.git'), `${what}: .git mounted: ${m.Source}`);
    assert.ok(!/(docker|containerd|podman)\.sock$/.test(m.Source), `${what}: an engine socket mounted: ${m.Source}`);
    assert.ok(m.Source !== home && !home.startsWith(`${m.Source.replace(/\/$/, '')}/`), `${what}: host home (or a parent) mounted: ${m.Source}`);
    for (const root of want.hostRoots ?? []) assert.ok(m.Source !== root && !m.Source.startsWith(`${root}/`), `${what}: the host repository mounted: ${m.Source}`);
  }
  const labels = info.Config.Labels ?? {};
  assert.equal(labels[LABELS.managed], '1', `${what}: ${LABELS.managed}`);
  assert.equal(labels[LABELS.role], want.role, `${what}: ${LABELS.role}`);
  assert.equal(labels[LABELS.runId], want.runId, `${what}: ${LABELS.runId}`);
  assert.match(labels[LABELS.owner] ?? '', /^.+:\d+$/, `${what}: ${LABELS.owner}`);
  if (want.owner) assert.equal(labels[LABELS.owner], want.owner, `${what}: owned by this Controller`);
  return Number(user[1]);
}

/**
 * The writable host folders of a container belong to its user and no other local user can write
 * them (issue 14, item 2): otherwise anyone on the host could forge a result, a report or evidence.
 */
export function assertOwnedFolders(c: CapturedContainer, uid: number, role: string): void {
  assert.ok(c.writable.length > 0, `${role}: has writable host folders`);
  for (const f of c.writable) {
    assert.equal(f.mode & 0o002, 0, `${role}: ${f.destination} (${f.source}) is world-writable (mode ${f.mode.toString(8)})`);
    assert.equal(f.uid, uid, `${role}: ${f.destination} (${f.source}) is owned by uid ${f.uid}, not the container's ${uid}`);
  }
}
