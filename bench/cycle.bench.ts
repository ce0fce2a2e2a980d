/**
 * Controller overhead of one PDCA cycle (issue 6 "Performance"): wall time of a whole cycle minus
 * the agent's own time minus the Gate steps' time, on the example and on a generated 10,000-file
 * repository, printed next to the floor measured in the same run — one `docker run` of a no-op
 * plus one `git commit`. Goal (issue 18 item 7): overhead within 1.2× the floor. Needs Docker and the worker image.
 *
 * The cycle is the example's D201 with the replay agent (real sandbox, gateway, Gate containers,
 * ADJUST and commit), each run on a fresh git copy made outside the timing.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCycle, type CycleOutcome } from '../src/core/cycle/orchestrator';
import { fmt, line, summarize } from './stats';

const ROOT = path.resolve(__dirname, '..');
const EXAMPLE = path.join(ROOT, 'examples', 'demo-project');
export const REPLAYS = path.join(EXAMPLE, 'replays');
const IMAGE = 'agentic-factory/worker-base:bookworm';

function git(repo: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'core.hooksPath=/dev/null', '-c', 'user.name=b', '-c', 'user.email=b@localhost', '-C', repo, ...args], { stdio: 'pipe' });
}

/** A git copy of the example, optionally with `extraFiles` small tracked files under data/. */
export function makeRepo(extraFiles: number): string {
  const repo = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'factory-bench-')), 'demo');
  fs.cpSync(EXAMPLE, repo, { recursive: true, filter: (s) => !s.startsWith(REPLAYS) });
  for (let i = 0; i < extraFiles; i++) {
    const dir = path.join(repo, 'data', String(Math.floor(i / 500)).padStart(3, '0'));
    if (i % 500 === 0) fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `f${i}.txt`), `row ${i}\n`);
  }
  git(repo, 'init', '-q');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'base');
  // Packed, as a clone of a real repository is (loose objects would make every read of the base
  // commit — `git archive` — open one file per blob).
  git(repo, 'repack', '-adq');
  // Write the new repository out before anything is timed: otherwise the engine's own fsyncs in
  // the first container create wait for this setup's dirty pages (≈ 100 ms on this VM).
  execFileSync('sync');
  return repo;
}

/** Each cycle's outcome, with `totalMs` replaced by the wall time of the whole `runCycle` call (clean-up included). */
async function cycles(extraFiles: number, runs: number): Promise<CycleOutcome[]> {
  const out: CycleOutcome[] = [];
  for (let i = 0; i < runs; i++) {
    const repo = makeRepo(extraFiles);
    try {
      const t = performance.now();
      // A cycle as the loop runs it after the run's first: the baseline on HEAD (spec §8-3, once per
      // run — one Gate and DocOps, cached by HEAD's tree) is not part of a cycle's overhead.
      const o = await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS, baseline: 'skip' });
      const wall = Math.round(performance.now() - t);
      if (o.status !== 'PASS') throw new Error(`bench cycle did not PASS: ${o.reasons.join('; ')}`);
      out.push({ ...o, timings: { ...o.timings, totalMs: wall } });
    } finally {
      fs.rmSync(path.dirname(repo), { recursive: true, force: true });
    }
  }
  return out;
}

/** One round: the floor measured just before its cycle, so both see the machine in the same state. */
interface Round {
  floor: number;
  cycle: CycleOutcome;
}

/** Controller overhead per cycle, as a multiple of the floor (issue 18 item 7). */
const GOAL = 1.2;

const overheadOf = (o: CycleOutcome) => o.timings.totalMs - o.timings.agentOwnMs - o.timings.gateCommandMs;

function report(label: string, rounds: Round[], parts: { docker: number[]; commit: number[] }): void {
  const os_ = rounds.map((r) => r.cycle);
  const floor = summarize(rounds.map((r) => r.floor));
  const overhead = summarize(os_.map(overheadOf));
  line(`${label}: floor: docker run --rm (no-op)`, summarize(parts.docker));
  line(`${label}: floor: git commit`, summarize(parts.commit));
  line(`${label}: floor: one docker run + one git commit`, floor);
  line(`${label}: whole cycle (wall)`, summarize(os_.map((o) => o.timings.totalMs)));
  line(`${label}: agent's own time`, summarize(os_.map((o) => o.timings.agentOwnMs)));
  line(`${label}: Gate steps (their own time)`, summarize(os_.map((o) => o.timings.gateCommandMs)));
  line(`${label}: Controller overhead`, overhead, floor, `≤ ${GOAL}× floor`);
  const ph = (k: 'PLAN' | 'DO' | 'CHECK' | 'ADJUST') => fmt(summarize(os_.map((o) => o.timings.phases[k] ?? 0)).median);
  console.log(`  phases (median): PLAN ${ph('PLAN')}, DO ${ph('DO')}, CHECK ${ph('CHECK')}, ADJUST ${ph('ADJUST')}`);
  const ratios = summarize(rounds.map((r) => overheadOf(r.cycle) / r.floor));
  console.log(`  overhead / floor per round: ${rounds.map((r) => (overheadOf(r.cycle) / r.floor).toFixed(2)).join(', ')} → median ${ratios.median.toFixed(2)}× (${ratios.median <= GOAL ? 'within' : 'OVER'} the ${GOAL}× goal)`);
}

/**
 * `n` rounds on repositories of `extraFiles` generated files: each round measures the floor —
 * one `docker run` of a no-op (median of three) plus one `git commit` in a repository like the
 * cycle's (a commit rewrites the index, so it costs more with 10,000 files) — and then runs one
 * cycle. Interleaving keeps a slow or fast phase of a shared machine out of the ratio.
 */
async function rounds(extraFiles: number, n: number): Promise<{ rounds: Round[]; docker: number[]; commit: number[] }> {
  const scratch = makeRepo(extraFiles);
  const out: Round[] = [];
  const docker: number[] = [];
  const commit: number[] = [];
  try {
    let k = 0;
    const commitOnce = () => {
      fs.writeFileSync(path.join(scratch, 'engine', 'pricing.py'), `# ${k++}\n`);
      const t = performance.now();
      git(scratch, 'commit', '-q', '-a', '-m', `c${k}`);
      return performance.now() - t;
    };
    commitOnce(); // the first commit after the set-up also writes the index out
    execFileSync('docker', ['run', '--rm', '--network', 'none', IMAGE, 'true'], { stdio: 'pipe' });
    for (let i = 0; i < n; i++) {
      const runs = [0, 1, 2].map(() => {
        const t = performance.now();
        execFileSync('docker', ['run', '--rm', '--network', 'none', IMAGE, 'true'], { stdio: 'pipe' });
        return performance.now() - t;
      });
      const d = summarize(runs).median;
      const c = commitOnce();
      docker.push(...runs);
      commit.push(c);
      const [cycle] = await cycles(extraFiles, 1);
      out.push({ floor: d + c, cycle: cycle });
    }
  } finally {
    fs.rmSync(path.dirname(scratch), { recursive: true, force: true });
  }
  return { rounds: out, docker, commit };
}

export async function run(): Promise<void> {
  execFileSync(process.execPath, ['esbuild.js'], { cwd: ROOT, stdio: 'pipe' });
  try {
    execFileSync('docker', ['image', 'inspect', IMAGE], { stdio: 'pipe' });
  } catch {
    console.log(`cycle bench skipped: no Docker engine or no ${IMAGE} (bash scripts/build-worker-image.sh)`);
    return;
  }
  // One unmeasured cycle first: the modules it loads and the image layers it reads are warm for all.
  await cycles(0, 1);
  const small = await rounds(0, 3);
  report('example (≈ 30 files)', small.rounds, small);
  const large = await rounds(10_000, 5);
  report('generated 10,000-file repo', large.rounds, large);
}
