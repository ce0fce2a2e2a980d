/**
 * Gate and evidence figures, each next to a baseline measured in the same run:
 * - the evidence index over 5,000 generated runs (goal < 200 ms with its cache file), next to a
 *   bare listing of the folder and a cold index that reads every manifest;
 * - the validator on one run (goal < 20 ms), next to just reading the run's files;
 * - a gate-cache hit on the example workspace (goal < 100 ms to decide), host and container
 *   runner, next to hashing the tree alone;
 * - the whole Gate on the example (2 guards + 3 stages, no cache) in ONE container (`docker exec`
 *   per step, issue 18) next to one fresh container per step, and the floors of both: N no-op
 *   containers and one.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/core/config/load';
import { emptyGitInfo } from '../src/core/evidence/git-info';
import { formatRunId } from '../src/core/evidence/run-id';
import { loadEvidenceIndex } from '../src/core/evidence/run-index';
import { validateEvidence } from '../src/core/evidence/validator';
import { writeEvidence } from '../src/core/evidence/writer';
import { ContainerRunner } from '../src/core/gate/container-runner';
import { GateCache } from '../src/core/gate/gate-cache';
import { HostRunner } from '../src/core/gate/host-runner';
import { runGate } from '../src/core/gate/run-gate';
import type { StageRunner } from '../src/core/gate/stage-runner';
import { hashTree } from '../src/core/gate/tree-hash';
import { DEFAULT_JOB_LIMITS, runJob } from '../src/core/sandbox/job';
import { line, summarize, time } from './stats';

const ROOT = path.resolve(__dirname, '..');
const EXAMPLE = path.join(ROOT, 'examples', 'demo-project');
const RUNS = 5000;

async function evidenceFigures(tmp: string): Promise<void> {
  const evidenceDir = path.join(tmp, 'evidence');
  const git = emptyGitInfo(new Date());
  git.commit = '0123456789abcdef0123456789abcdef01234567';
  const seed = await writeEvidence(evidenceDir, {
    ticketId: 'D201',
    status: 'PASS',
    startedAt: new Date('2026-01-01T00:00:00Z'),
    endedAt: new Date('2026-01-01T00:01:00Z'),
    git,
    costUsd: 0.1,
  });
  // 5,000 runs: the seed's files copied, each with its own manifest (run id and status differ).
  const files = fs.readdirSync(seed.dir).filter((f) => f !== 'manifest.json');
  const t0 = new Date('2026-01-01T00:00:00Z').getTime();
  for (let i = 1; i < RUNS; i++) {
    const id = formatRunId(new Date(t0 + i * 60_000), `D${200 + (i % 50)}`, git.commit);
    const dir = path.join(evidenceDir, id);
    fs.mkdirSync(dir);
    for (const f of files) fs.copyFileSync(path.join(seed.dir, f), path.join(dir, f));
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ ...seed.manifest, run_id: id, ticket_id: `D${200 + (i % 50)}`, status: i % 7 ? 'PASS' : 'FAIL' }, null, 2));
  }
  const cacheFile = path.join(tmp, 'autopilot', 'evidence_index.json');
  const listing = await time(() => fs.readdirSync(evidenceDir, { withFileTypes: true }), 10, 2);
  const cold = await time(() => loadEvidenceIndex(evidenceDir), 5, 1);
  await loadEvidenceIndex(evidenceDir, { cacheFile });
  const warm = await time(() => loadEvidenceIndex(evidenceDir, { cacheFile }), 10, 2);
  line(`readdir of ${RUNS} runs (baseline)`, listing);
  line(`evidence index, cold (reads ${RUNS} manifests)`, cold, listing);
  line(`evidence index, with its cache file`, warm, listing, '< 200 ms');

  const readOnly = await time(() => {
    for (const f of fs.readdirSync(seed.dir)) fs.readFileSync(path.join(seed.dir, f));
  }, 50, 5);
  const validate = await time(() => {
    if (!validateEvidence(seed.dir).valid) throw new Error('seed run invalid');
  }, 50, 5);
  line('read one run\'s files (baseline)', readOnly);
  line('validateEvidence on one run', validate, readOnly, '< 20 ms');
}

async function cacheFigures(tmp: string): Promise<void> {
  const tree = path.join(tmp, 'example');
  fs.cpSync(EXAMPLE, tree, { recursive: true, filter: (s) => !/[/\\](logs|__pycache__|\.pytest_cache)$/.test(s) });
  const { config } = await loadConfig(tree);
  const hash = await time(() => hashTree(tree, { exclude: [config.paths.evidence, config.paths.autopilot] }), 20, 3);
  line('hash the example tree (baseline)', hash);

  const measure = async (label: string, mkRunner: () => StageRunner) => {
    const cache = new GateCache(path.join(tmp, `cache-${label}`));
    const first = await runGate({ config, treeDir: tree, runner: mkRunner(), cache });
    if (first.status !== 'PASS') throw new Error(`example gate failed (${label}):\n${first.log}`);
    // A fresh runner each time: the decision includes asking for the runner identity.
    const hit = await time(async () => {
      const r = await runGate({ config, treeDir: tree, runner: mkRunner(), cache });
      if (!r.cache?.hit) throw new Error('expected a cache hit');
    }, 20, 3);
    line(`gate cache hit on the example (${label})`, hit, hash, '< 100 ms');
  };
  await measure('host runner', () => new HostRunner({ cwd: tree }));
  let docker = false;
  try {
    execFileSync('docker', ['image', 'inspect', config.worker.image], { stdio: 'pipe' });
    docker = true;
  } catch {
    console.log(`(no Docker engine or no image ${config.worker.image}: container figure not measured)`);
  }
  if (docker) {
    await measure('container runner', () => new ContainerRunner({
      treeDir: tree,
      image: config.worker.image,
      limits: { memoryMb: config.worker.memoryMb, cpus: config.worker.cpus, pidsLimit: config.worker.pidsLimit, tmpfsMb: config.worker.tmpfsMb },
      readOnly: true,
      runId: 'bench',
      ticket: 'bench',
    }));
  }
}

/** The Gate on the example, one container vs one per step, each next to its no-op floor. */
async function sessionFigures(tmp: string): Promise<void> {
  const tree = path.join(tmp, 'example-session');
  fs.cpSync(EXAMPLE, tree, { recursive: true, filter: (s) => !/[/\\](logs|__pycache__|\.pytest_cache)$/.test(s) });
  fs.chmodSync(tree, 0o755);
  const { config } = await loadConfig(tree);
  try {
    execFileSync('docker', ['image', 'inspect', config.worker.image], { stdio: 'pipe' });
  } catch {
    console.log(`(no Docker engine or no image ${config.worker.image}: Gate container figures not measured)`);
    return;
  }
  const limits = { memoryMb: config.worker.memoryMb, cpus: config.worker.cpus, pidsLimit: config.worker.pidsLimit, tmpfsMb: config.worker.tmpfsMb };
  const steps = config.guards.filter((g) => g.kind === 'preflight').length + config.gate.stages.length;
  const mk = (perStep: boolean) => new ContainerRunner({ treeDir: tree, image: config.worker.image, limits, readOnly: true, runId: 'bench', ticket: 'bench', perStep });
  // The same five steps doing nothing (`true`): the runner's own cost, without pytest's noise.
  const idle = { ...config, guards: config.guards.map((g) => ({ ...g, command: ['true'] })), gate: { ...config.gate, stages: config.gate.stages.map((st) => ({ ...st, command: ['true'] })) } };
  const gate = async (perStep: boolean, c = config) => {
    const r = await runGate({ config: c, treeDir: tree, runner: mk(perStep) });
    if (r.status !== 'PASS') throw new Error(`example gate failed (perStep ${perStep}):\n${r.log}`);
  };
  const noop = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const r = await runJob({ role: 'gate', image: config.worker.image, cmd: ['true'], mounts: [{ hostPath: tree, containerPath: '/workspace', readOnly: true }], limits: { ...DEFAULT_JOB_LIMITS, ...limits }, labels: { runId: 'bench', ticket: 'bench' }, timeoutMs: 60_000 });
      if (r.exitCode !== 0) throw new Error(`no-op container: ${r.status} ${r.error ?? ''}`);
    }
  };
  // Interleaved, so a load change on the machine hits both ways alike.
  const samples: Record<'one' | 'many' | 'idlePerStep' | 'idleSession' | 'perStep' | 'session', number[]> = { one: [], many: [], idlePerStep: [], idleSession: [], perStep: [], session: [] };
  const runs: [keyof typeof samples, () => Promise<void>][] = [
    ['one', () => noop(1)], ['many', () => noop(steps)], ['idlePerStep', () => gate(true, idle)], ['idleSession', () => gate(false, idle)], ['perStep', () => gate(true)], ['session', () => gate(false)],
  ];
  for (let i = 0; i < 9; i++) {
    for (const [k, fn] of runs) {
      const t0 = performance.now();
      await fn();
      if (i > 0) samples[k].push(performance.now() - t0); // the first round warms up
    }
  }
  const [one, many, idlePerStep, idleSession, perStep, session] = (['one', 'many', 'idlePerStep', 'idleSession', 'perStep', 'session'] as const).map((k) => summarize(samples[k]));
  line('1 no-op container (floor, one container)', one);
  line(`${steps} no-op containers (floor, one per step)`, many, one);
  line(`Gate of ${steps} no-op steps, one container per step`, idlePerStep, many);
  line(`Gate of ${steps} no-op steps, ONE container (exec)`, idleSession, idlePerStep, '< per-step');
  line(`Gate on the example, one container per step`, perStep, many);
  line(`Gate on the example, ONE container (exec)`, session, perStep, '< per-step');
  console.log(`Gate time saved per cycle: ${(perStep.median - session.median).toFixed(0)} ms (one container / per step = ${(session.median / perStep.median).toFixed(2)}×)`);
}

export async function run(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-bench-'));
  try {
    await evidenceFigures(tmp);
    await cacheFigures(tmp);
    await sessionFigures(tmp);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
