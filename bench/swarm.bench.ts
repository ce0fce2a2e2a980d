/**
 * Issue 19: the Controller's added latency per cycle on the swarm backend against the local one,
 * as a ratio measured in the same run. One Worker job (the cycle's own job description,
 * `workerJob`, on a small staging copy of a generated repository) runs a trivial command; the
 * time from `startWorker` to `done` is job scheduling + staging transfer (bundle through the
 * relay) + result read-back (mirrored onto the host folders) on the swarm, and container create
 * → exit → remove locally. Rounds are interleaved (local, swarm, local, …) so both see the same
 * load. The swarm's one-time set-up (network, relay image, relay service) is reported apart.
 *
 * A swarm that cannot be initialised prints one clear failure line (the local figure still runs).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import Docker from 'dockerode';
import { localBackend } from '../src/core/backend/local';
import type { ExecutionBackend } from '../src/core/backend/backend';
import { swarmBackend } from '../src/core/backend/swarm/swarm-backend';
import { loadConfigStrict } from '../src/core/config/load';
import type { Plan } from '../src/core/contracts/plan';
import { DEFAULT_JOB_LIMITS } from '../src/core/sandbox/job';
import { createStagingCopy, type StagingCopy } from '../src/core/sandbox/staging';
import { workerJob } from '../src/core/sandbox/worker-job';
import { errorMessage } from '../src/core/util/errors';
import { fmt, line, summarize } from './stats';

const IMAGE = process.env.FACTORY_WORKER_IMAGE ?? 'agentic-factory/worker-base:bookworm';
const ROUNDS = Number(process.env.FACTORY_BENCH_SWARM_ROUNDS ?? 6);

function makeRepo(files: number): string {
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-bench-swarm-'));
  for (let i = 0; i < files; i++) {
    const dir = path.join(repo, i % 2 ? 'src' : 'tests');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `mod_${i}.py`), `# module ${i}\n${'x = 1\n'.repeat(30)}`);
  }
  const git = (...a: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.email=b@example.invalid', '-c', 'user.name=b', ...a], { stdio: 'pipe' });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'bench');
  return repo;
}

/** The single-node swarm: initialised when inactive; `leave` only when this bench did it. */
function ensureSwarm(): { leave(): void } {
  const state = () => execFileSync('docker', ['info', '--format', '{{.Swarm.LocalNodeState}}'], { encoding: 'utf8' }).trim();
  if (state() === 'active') return { leave: () => undefined };
  execFileSync('docker', ['swarm', 'init', '--advertise-addr', '127.0.0.1'], { stdio: 'pipe', timeout: 60_000 });
  return { leave: () => void execFileSync('docker', ['swarm', 'leave', '--force'], { stdio: 'pipe', timeout: 60_000 }) };
}

const plan = (runId: string): Plan => ({ run_id: runId, ticket_id: 'BENCH', timeout_minutes: 5, scope: { modify: ['src/**'], readonly: [], forbidden: [] } }) as unknown as Plan;

/** One Worker job through `backend` on a fresh staging copy: ms from start to a settled result. */
async function oneJob(backend: ExecutionBackend, repo: string, commit: string, docker: Docker, i: number): Promise<number> {
  const runId = `bench-swarm-${i}`;
  const staging: StagingCopy = await createStagingCopy({ root: repo, runId, commit, modify: ['src/**'] });
  try {
    fs.writeFileSync(path.join(staging.control, 'plan.json'), JSON.stringify(plan(runId)));
    const job = workerJob({ role: 'worker', plan: plan(runId), staging, listing: new Map(), image: IMAGE, cmd: ['sh', '-c', 'echo done > /factory/out/result.txt'], limits: { ...DEFAULT_JOB_LIMITS, memoryMb: 256 }, repo, timeoutMs: 120_000 });
    const t0 = performance.now();
    const running = backend.startWorker(job, { docker });
    await running.watchGrowth();
    const r = await running.done;
    const ms = performance.now() - t0;
    if (r.status !== 'exited' || r.exitCode !== 0) throw new Error(`${backend.kind} job: ${r.status} ${r.exitCode ?? ''} ${r.error ?? r.warnings.join('; ')}`);
    if (!fs.existsSync(path.join(staging.output, 'result.txt'))) throw new Error(`${backend.kind} job: its output did not come back`);
    return ms;
  } finally {
    staging.dispose();
  }
}

export async function run(): Promise<void> {
  try {
    execFileSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore' });
  } catch {
    console.log(`swarm vs local Worker job: skipped (image ${IMAGE} absent; run scripts/build-worker-image.sh)`);
    return;
  }
  let swarm: { leave(): void };
  try {
    swarm = ensureSwarm();
  } catch (err) {
    console.log(`swarm vs local Worker job: FAILED — a single-node swarm cannot be initialised here: ${errorMessage(err)}`);
    return;
  }
  const docker = new Docker();
  const repo = makeRepo(200);
  const commit = execFileSync('git', ['-C', repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const { config } = await loadConfigStrict(repo);
  config.engine.backend = 'swarm';
  config.worker.image = IMAGE;
  const local = localBackend({ docker });
  let remote: ExecutionBackend | undefined;
  try {
    remote = await swarmBackend(config, { docker, root: repo, runId: `bench-${process.pid}` });
    const t0 = performance.now();
    const first = await oneJob(remote, repo, commit, docker, 0); // network, relay image and service, then the job
    console.log(`swarm run set-up (network, relay image + service) and first job: ${fmt(performance.now() - t0)} (job alone after it: see below; first ${fmt(first)})`);
    const localMs: number[] = [];
    const swarmMs: number[] = [];
    for (let i = 1; i <= ROUNDS; i++) {
      localMs.push(await oneJob(local, repo, commit, docker, i));
      swarmMs.push(await oneJob(remote, repo, commit, docker, i));
    }
    line('Worker job, 200-file staging copy: swarm', summarize(swarmMs), summarize(localMs), 'the Controller\'s added latency per cycle, swarm vs local');
    const added = summarize(swarmMs).median - summarize(localMs).median;
    console.log(`swarm adds ${fmt(added)} per Worker job (scheduling + bundle through the relay + result read-back)`);
  } catch (err) {
    console.log(`swarm vs local Worker job: FAILED — ${errorMessage(err)}`);
  } finally {
    await remote?.dispose();
    fs.rmSync(repo, { recursive: true, force: true });
    swarm.leave();
  }
}
