/** What the swarm backend needs, for `factory doctor` (issue 19), and how many jobs the swarm holds. */
import type Docker from 'dockerode';
import type { FactoryConfig } from '../../config/schema';
import { ENGINE_CALL_MS, withTimeout } from '../../sandbox/engine-calls';
import { FactoryError, errorMessage } from '../../util/errors';
import type { BackendCheck } from '../backend';

interface SwarmInfo {
  LocalNodeState?: string;
  NodeID?: string;
  ControlAvailable?: boolean;
  Error?: string;
}

/** The engine's swarm section of `docker info`. */
async function swarmInfo(docker: Docker): Promise<{ swarm: SwarmInfo; plugins: string[] }> {
  const info = (await withTimeout(docker.info(), ENGINE_CALL_MS, 'info')) as { Swarm?: SwarmInfo; Plugins?: { Network?: string[] } };
  return { swarm: info.Swarm ?? {}, plugins: info.Plugins?.Network ?? [] };
}

/** The local engine's swarm node id (the relay is pinned there); `swarm.unavailable` when it is no swarm member. */
export async function localNodeId(docker: Docker): Promise<string> {
  const { swarm } = await swarmInfo(docker);
  if (swarm.LocalNodeState !== 'active' || !swarm.NodeID) {
    throw new FactoryError(`this engine is no swarm node (state ${swarm.LocalNodeState ?? 'unknown'})`, 'swarm.unavailable');
  }
  return swarm.NodeID;
}

interface NodeInfo {
  Status?: { State?: string };
  Spec?: { Availability?: string };
  Description?: { Hostname?: string; Resources?: { NanoCPUs?: number; MemoryBytes?: number } };
}

const readyNodes = (nodes: NodeInfo[]) => nodes.filter((n) => n.Status?.State === 'ready' && n.Spec?.Availability === 'active');

/** Jobs of `limits` the swarm's ready, active nodes hold at once: per node the smaller of its CPU and memory slots. */
export async function swarmCapacity(docker: Docker, limits: { memoryMb: number; cpus: number }): Promise<number> {
  const nodes = (await withTimeout(docker.listNodes(), ENGINE_CALL_MS, 'node list')) as NodeInfo[];
  let slots = 0;
  for (const n of readyNodes(nodes)) {
    const cpu = Math.floor((n.Description?.Resources?.NanoCPUs ?? 0) / Math.max(1, limits.cpus * 1e9));
    const mem = Math.floor((n.Description?.Resources?.MemoryBytes ?? 0) / Math.max(1, limits.memoryMb * 1024 * 1024));
    slots += Math.max(0, Math.min(cpu, mem));
  }
  return slots;
}

/** Engine, manager, this node, ready nodes, the worker image here, the overlay driver: each with a one-line fix. */
export async function swarmChecks(docker: Docker, config: FactoryConfig): Promise<BackendCheck[]> {
  const out: BackendCheck[] = [];
  try {
    const v = await withTimeout(docker.version(), ENGINE_CALL_MS, 'version');
    out.push({ id: 'swarm.engine', ok: true, detail: `Docker engine ${v.Version} (API ${v.ApiVersion})` });
  } catch (err) {
    out.push({ id: 'swarm.engine', ok: false, detail: `no Docker engine: ${errorMessage(err)}`, fix: 'start dockerd, or set engine.swarm.host (or DOCKER_HOST) to the swarm manager' });
    return out;
  }
  const { swarm, plugins } = await swarmInfo(docker);
  const member = swarm.LocalNodeState === 'active' && !!swarm.NodeID;
  out.push(
    member && swarm.ControlAvailable
      ? { id: 'swarm.manager', ok: true, detail: 'the engine is a swarm manager' }
      : { id: 'swarm.manager', ok: false, detail: member ? 'the engine is a swarm worker, not a manager' : `the engine is in no swarm (state ${swarm.LocalNodeState ?? 'unknown'}${swarm.Error ? `: ${swarm.Error}` : ''})`, fix: 'docker swarm init --advertise-addr <this machine\'s address>, or point engine.swarm.host at a manager' },
  );
  out.push(
    member
      ? { id: 'swarm.node', ok: true, detail: `this machine is swarm node ${swarm.NodeID} (the relay runs here, beside the run folder)` }
      : { id: 'swarm.node', ok: false, detail: 'this machine is no node of the swarm: the relay bind-mounts the run folder and must run here', fix: 'docker swarm join … on this machine (or init the swarm here)' },
  );
  if (swarm.ControlAvailable) out.push(await nodesCheck(docker));
  out.push(await imageCheck(docker, config.worker.image));
  out.push(
    plugins.includes('overlay')
      ? { id: 'swarm.network', ok: true, detail: 'the overlay network driver is available (each run gets an internal overlay network)' }
      : { id: 'swarm.network', ok: false, detail: `the engine offers no overlay driver (network drivers: ${plugins.join(', ') || 'none'})`, fix: 'use a Docker engine with swarm mode enabled (docker swarm init)' },
  );
  return out;
}

async function nodesCheck(docker: Docker): Promise<BackendCheck> {
  try {
    const nodes = (await withTimeout(docker.listNodes(), ENGINE_CALL_MS, 'node list')) as NodeInfo[];
    const ready = readyNodes(nodes);
    return ready.length > 0
      ? { id: 'swarm.nodes', ok: true, detail: `${ready.length} of ${nodes.length} node(s) ready and active: ${ready.map((n) => n.Description?.Hostname ?? '?').join(', ')}` }
      : { id: 'swarm.nodes', ok: false, detail: `no ready, active node (${nodes.length} known)`, fix: 'docker node update --availability active <node>, or join a node' };
  } catch (err) {
    return { id: 'swarm.nodes', ok: false, detail: `cannot list the swarm's nodes: ${errorMessage(err)}`, fix: 'point engine.swarm.host at a manager' };
  }
}

async function imageCheck(docker: Docker, image: string): Promise<BackendCheck> {
  try {
    await withTimeout(docker.getImage(image).inspect(), ENGINE_CALL_MS, 'image inspect');
    return { id: 'swarm.image', ok: true, detail: `the worker image ${image} is on this node (other nodes cannot be asked from here: each must have it, or pull it from a registry)` };
  } catch {
    return { id: 'swarm.image', ok: false, detail: `the worker image ${image} is not on this node (other nodes cannot be asked from here)`, fix: `Factory: Build Worker Image, then docker save ${image} | docker -H <node> load on each node (or push it to a registry the nodes pull from)` };
  }
}
