import { execFile, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { REQUIRE_ENGINES } from '../../support/engines';

const execFileAsync = promisify(execFile);

/**
 * A two-node swarm on one machine (issue 19): two extra dockerds, each in its own network
 * namespace (`ip netns`, a veth into one host bridge), with their own data root, exec root and
 * cgroup parent, `--iptables=false`; the first inits a swarm advertising its namespace address,
 * the second joins it as a worker. Started with `nsenter --net` (not `ip netns exec`, which
 * remounts /sys and hides the cgroup mounts dockerd needs). The host engine and its swarm are
 * not touched. Needs root, `ip`, `nsenter` and `dockerd`.
 */
export interface TwoNodes {
  /** The manager's engine (first namespace). */
  manager: Docker;
  managerId: string;
  /** The worker node's id (second namespace). */
  workerId: string;
  /** Load a host image into both nodes (docker save | docker -H … load). */
  loadImage(image: string): Promise<void>;
  stop(): Promise<void>;
}

interface Node {
  ns: string;
  sock: string;
  root: string;
  exec: string;
  pid: number;
  addr: string;
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
}

/** Why this machine cannot host the two nodes, or null. */
export function twoNodesUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root (network namespaces and a second dockerd need root)';
  for (const bin of ['ip', 'nsenter', 'dockerd']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return `${bin} is not installed`;
    }
  }
  return null;
}

/** Skip (locally) or fail (CI) when the machine cannot host the two nodes. */
export function requireTwoNodes(ctx: Mocha.Context): void {
  const why = twoNodesUnavailable();
  if (!why) return;
  if (REQUIRE_ENGINES) throw new Error(`a two-node swarm cannot be made here: ${why} (required in CI: FACTORY_REQUIRE_ENGINES=1)`);
  console.warn(`  ! skipping: ${why}`);
  ctx.skip();
}

const tag = String(process.pid % 100000);
const subnet = `10.99.${20 + (process.pid % 200)}`;
const bridge = `f2b${tag}`;

async function waitEngine(d: Docker, log: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    try {
      await d.ping();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`the namespaced dockerd did not answer: ${fs.readFileSync(log, 'utf8').slice(-2000)}`);
}

async function startNode(k: number): Promise<Node> {
  const ns = `f2n${k}-${tag}`;
  const host = `f2${k}h${tag}`;
  const peer = `f2${k}p${tag}`;
  const addr = `${subnet}.${k + 1}`;
  sh('ip', ['netns', 'add', ns]);
  sh('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', peer]);
  sh('ip', ['link', 'set', peer, 'netns', ns]);
  sh('ip', ['link', 'set', host, 'master', bridge]);
  sh('ip', ['link', 'set', host, 'up']);
  sh('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', peer]);
  sh('ip', ['-n', ns, 'link', 'set', peer, 'up']);
  sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  const root = `/var/lib/factory-t2n-${tag}-${k}`;
  const exec = `/run/factory-t2n-${tag}-${k}`;
  fs.mkdirSync(root, { recursive: true });
  fs.mkdirSync(exec, { recursive: true });
  const sock = path.join(exec, 'docker.sock');
  const log = path.join(exec, 'dockerd.log');
  const fd = fs.openSync(log, 'a');
  const child = spawn(
    'nsenter',
    [`--net=/var/run/netns/${ns}`, 'dockerd', '--data-root', root, '--exec-root', exec, '--pidfile', path.join(exec, 'dockerd.pid'), '-H', `unix://${sock}`,
      '--iptables=false', '--ip-forward=false', '--bridge=none', `--cgroup-parent=/factory-t2n-${tag}-${k}`],
    { detached: true, stdio: ['ignore', fd, fd] },
  );
  child.unref();
  fs.closeSync(fd);
  await waitEngine(new Docker({ socketPath: sock }), log);
  return { ns, sock, root, exec, pid: child.pid ?? 0, addr };
}

async function stopNode(n: Node): Promise<void> {
  if (n.pid > 0) {
    try {
      process.kill(n.pid, 'SIGTERM');
      for (let i = 0; i < 80; i++) {
        process.kill(n.pid, 0);
        await new Promise((r) => setTimeout(r, 250));
      }
      process.kill(n.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  try {
    sh('ip', ['netns', 'del', n.ns]);
  } catch {
    // not there
  }
  fs.rmSync(n.root, { recursive: true, force: true });
  fs.rmSync(n.exec, { recursive: true, force: true });
}

export async function startTwoNodes(): Promise<TwoNodes> {
  const nodes: Node[] = [];
  const stop = async () => {
    for (const n of nodes.reverse()) await stopNode(n);
    try {
      sh('ip', ['link', 'del', bridge]);
    } catch {
      // not there
    }
  };
  try {
    sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
    sh('ip', ['addr', 'add', `${subnet}.1/24`, 'dev', bridge]);
    sh('ip', ['link', 'set', bridge, 'up']);
    nodes.push(await startNode(1));
    nodes.push(await startNode(2));
    const [m, w] = nodes as [Node, Node];
    sh('docker', ['-H', `unix://${m.sock}`, 'swarm', 'init', '--advertise-addr', m.addr]);
    const token = sh('docker', ['-H', `unix://${m.sock}`, 'swarm', 'join-token', '-q', 'worker']).trim();
    sh('docker', ['-H', `unix://${w.sock}`, 'swarm', 'join', '--token', token, '--advertise-addr', w.addr, `${m.addr}:2377`]);
    const manager = new Docker({ socketPath: m.sock });
    const managerId = ((await manager.info()) as { Swarm: { NodeID: string } }).Swarm.NodeID;
    const workerId = ((await new Docker({ socketPath: w.sock }).info()) as { Swarm: { NodeID: string } }).Swarm.NodeID;
    // One export, loaded into both daemons at once (the image is ≈ 400 MB: this is most of the set-up).
    const loadImage = async (image: string) => {
      const tar = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'factory-2node-img-')), 'image.tar');
      try {
        execFileSync('docker', ['save', '-o', tar, image], { stdio: 'pipe', timeout: 300_000 });
        await Promise.all(nodes.map((n) => execFileAsync('docker', ['-H', `unix://${n.sock}`, 'load', '-q', '-i', tar], { timeout: 300_000 })));
      } finally {
        fs.rmSync(path.dirname(tar), { recursive: true, force: true });
      }
    };
    return { manager, managerId, workerId, loadImage, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
