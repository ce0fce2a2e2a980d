/**
 * Throughput of the parallel factory (issue 18, item 6): the same agent-bound ticket set run with
 * N = 1, 2, 4, 8 cycles in flight, each N on a fresh copy of the generated repository (made
 * outside the timing). Prints ACs per minute, the speedup over N = 1 measured in the same run
 * (goal ≥ 0.8·N up to the machine's limits) and the Controller overhead per cycle at N = 8 vs
 * N = 1 (goal ≤ 1.5×). Needs Docker and the worker image.
 *
 * The work is agent-bound: every ticket's replay recording makes its model calls through the real
 * gateway to the scripted provider on loopback, which holds each answer for a fixed latency
 * (bench/support/ticket-repo.ts is the workload). Knobs (environment): FACTORY_BENCH_TICKETS (16),
 * FACTORY_BENCH_CALLS (3), FACTORY_BENCH_LATENCY_MS (2000), FACTORY_BENCH_PARALLEL ("1,2,4,8").
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CycleDeps, CycleEvent, CycleOutcome } from '../src/core/cycle/cycle-types';
import type { FactoryRunOptions } from '../src/core/cycle/parallel/factory-types';
import { ScriptedProvider } from '../test/support/scripted-provider';
import { fmt, summarize } from './stats';
import { BENCH_IMAGE, writeRecordings, writeTicketRepo } from './support/ticket-repo';

const ROOT = path.resolve(__dirname, '..');
const KEY = 'sk-bench-scripted-provider-000000000000';
const envInt = (name: string, dflt: number) => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} must be a non-negative integer, got ${process.env[name]}`);
  return v;
};

type Runner = (opts: FactoryRunOptions, deps: CycleDeps) => Promise<{ outcomes: CycleOutcome[] }>;

/**
 * `runFactory` (src/core/cycle/parallel/run-factory.ts) when it is there; else a serial loop of
 * `runCycle` that can only stand for N = 1.
 */
async function loadRunner(): Promise<{ run: Runner; parallel: boolean }> {
  const file = path.join(ROOT, 'src', 'core', 'cycle', 'parallel', 'run-factory.ts');
  if (fs.existsSync(file)) {
    const m = (await import(file)) as { runFactory?: Runner };
    if (m.runFactory) return { run: m.runFactory, parallel: true };
  }
  const { runCycle } = await import('../src/core/cycle/orchestrator');
  const serial: Runner = async (opts, deps) => {
    const outcomes: CycleOutcome[] = [];
    for (let i = 0; i < opts.maxCycles; i++) outcomes.push(await runCycle({ ...opts, baseline: 'skip' }, deps));
    return { outcomes };
  };
  return { run: serial, parallel: false };
}

interface Measured {
  n: number;
  wallMs: number;
  acs: number;
  outcomes: CycleOutcome[];
  /** Most cycles seen in flight at once (from the cycles' phase and end events). */
  peak: number;
  calls: number;
  /** The whole machine's CPU busy share during the run (os.cpus() times: 1 − Δidle / Δtotal). */
  cpuBusy: number;
}

const overheadOf = (o: CycleOutcome) => o.timings.totalMs - o.timings.agentOwnMs - o.timings.gateCommandMs;
const median = (xs: number[]) => summarize(xs).median;
/** A cycle's wall outside DO, CHECK and ADJUST: its wait for the merge queue (runFactory's totalMs starts after PLAN). */
const unphased = (o: CycleOutcome) => o.timings.totalMs - (['DO', 'CHECK', 'ADJUST'] as const).reduce((a, k) => a + (o.timings.phases[k] ?? 0), 0);

/** Idle and total CPU time of the machine so far (all cores, ms). */
function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const c of os.cpus()) {
    idle += c.times.idle;
    total += c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq;
  }
  return { idle, total };
}

/** Cycles in flight, from the events: a run id's first event starts it, its `end` ends it. */
function inFlightCounter(): { onEvent: (e: CycleEvent) => void; peak: () => number } {
  const live = new Set<string>();
  const seen = new Set<string>();
  let peak = 0;
  return {
    onEvent: (e) => {
      if (e.type === 'end') return void live.delete(e.outcome.runId);
      if (e.type !== 'phase' || seen.has(e.runId)) return;
      seen.add(e.runId);
      live.add(e.runId);
      peak = Math.max(peak, live.size);
    },
    peak: () => peak,
  };
}

async function measure(n: number, tickets: number, setup: { run: Runner; provider: ScriptedProvider; replays: string; signal: AbortSignal }): Promise<Measured> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `factory-pbench-n${n}-`));
  let ok = false;
  try {
    const repo = writeTicketRepo(tmp, { tickets, upstream: setup.provider.url });
    const before = setup.provider.served.requests;
    const counter = inFlightCounter();
    const cpu0 = cpuTimes();
    const t = performance.now();
    // baseline 'skip': the baseline is one Gate on HEAD per run, the same for every N and not
    // parallel work; inside the timing it would measure the Gate, not the factory's throughput.
    const r = await setup.run(
      { root: repo, replayDir: setup.replays, parallel: n, maxCycles: tickets, baseline: 'skip', keys: { openai: KEY, anthropic: KEY, gemini: KEY } },
      { signal: setup.signal, onEvent: counter.onEvent },
    );
    const wallMs = performance.now() - t;
    const cpu1 = cpuTimes();
    const cpuBusy = 1 - (cpu1.idle - cpu0.idle) / Math.max(1, cpu1.total - cpu0.total);
    const failed = r.outcomes.filter((o) => o.status !== 'PASS');
    for (const o of failed) console.log(`  N=${n}: ${o.ticketId} ${o.status}: ${o.reasons.join('; ')}`);
    const acs = r.outcomes.filter((o) => o.status === 'PASS').reduce((s, o) => s + o.acIds.length, 0);
    ok = true;
    return { n, wallMs, acs, outcomes: r.outcomes, peak: counter.peak(), calls: setup.provider.served.requests - before, cpuBusy };
  } catch (err) {
    // Kept for whoever debugs the run (its logs/autopilot, history, cycle states).
    throw new Error(`N=${n}: the run threw: ${err instanceof Error ? err.message : String(err)} (repository kept at ${tmp}/repo)`, { cause: err });
  } finally {
    if (ok) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function report(rows: Measured[], w: { tickets: number; calls: number; latency: number; parallel: boolean }): void {
  const cpus = os.cpus().length;
  const base = rows.find((r) => r.n === 1);
  const rate = (r: Measured) => r.acs / (r.wallMs / 60_000);
  console.log('N  wall      ACs  ACs/min  speedup  goal ≥0.8·N     peak in flight  calls  CPU busy  overhead/cycle (median)  agent own (median)  Gate cmds (median)');
  for (const r of rows) {
    const speedup = base ? rate(r) / rate(base) : NaN;
    const goal = `${speedup >= 0.8 * r.n ? 'within' : 'OVER'} ${(0.8 * r.n).toFixed(1)}×`;
    const med = (f: (o: CycleOutcome) => number) => fmt(median(r.outcomes.map(f))).padEnd(20);
    console.log(
      `${String(r.n).padEnd(2)} ${`${(r.wallMs / 1000).toFixed(1)} s`.padEnd(9)} ${String(r.acs).padEnd(4)} ${rate(r).toFixed(2).padEnd(8)} ${`${speedup.toFixed(2)}×`.padEnd(8)} ${goal.padEnd(15)} ${String(r.peak).padEnd(15)} ${String(r.calls).padEnd(6)} ${`${Math.round(r.cpuBusy * 100)} %`.padEnd(9)} ${med(overheadOf).padEnd(24)} ${med((o) => o.timings.agentOwnMs)} ${med((o) => o.timings.gateCommandMs)}`,
    );
  }
  for (const r of rows) {
    const ph = (k: 'PLAN' | 'DO' | 'CHECK' | 'ADJUST') => fmt(median(r.outcomes.map((o) => o.timings.phases[k] ?? 0)));
    console.log(`  N=${r.n} phases per cycle (median): PLAN ${ph('PLAN')}, DO ${ph('DO')}, CHECK ${ph('CHECK')}, ADJUST ${ph('ADJUST')} (ADJUST re-runs the Gate on the integrated tree when HEAD moved); outside DO/CHECK/ADJUST (waiting for the merge queue) ${fmt(median(r.outcomes.map(unphased)))}; cycle wall ${fmt(median(r.outcomes.map((o) => o.timings.totalMs)))}`);
  }
  console.log('Controller overhead per cycle = the cycle\'s wall (outcome.timings.totalMs) − the agent\'s own time (agentOwnMs) − the Gate steps\' own time (gateCommandMs), median over the run\'s cycles (as bench/cycle.bench.ts).');
  const top = rows.find((r) => r.n === 8) ?? rows[rows.length - 1];
  if (base && top && top !== base) {
    const ratio = median(top.outcomes.map(overheadOf)) / median(base.outcomes.map(overheadOf));
    console.log(`Controller overhead per cycle at N=${top.n} vs N=1: ${ratio.toFixed(2)}× (${ratio <= 1.5 ? 'within' : 'OVER'} the 1.5× goal)`);
  }
  if (base) {
    // The agent's wait scales with N; the rest of a cycle (Controller, containers, Gate) needs the CPU.
    const cycleWall = median(base.outcomes.map((o) => o.timings.totalMs));
    const cap = (cpus * cycleWall) / Math.max(1, cycleWall - w.calls * w.latency);
    console.log(`machine: os.cpus().length = ${cpus}, load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; CPU busy = the whole machine's (other processes count). At N=1 a cycle takes ${fmt(cycleWall)} of which ${fmt(w.calls * w.latency)} is the model's latency: if the rest were CPU-bound on ${cpus} cores, the speedup would top out near ${cap.toFixed(1)}× — beyond that N the machine, not the factory, is the limit.`);
  }
  if (!w.parallel) console.log('runFactory (src/core/cycle/parallel/run-factory.ts) is not there yet: only N=1 was measured, through a serial runCycle loop.');
}

export async function run(): Promise<void> {
  const tickets = envInt('FACTORY_BENCH_TICKETS', 16);
  const calls = envInt('FACTORY_BENCH_CALLS', 3);
  const latency = envInt('FACTORY_BENCH_LATENCY_MS', 2000);
  const runner = await loadRunner();
  const ns = (process.env.FACTORY_BENCH_PARALLEL ?? '1,2,4,8').split(',').map(Number).filter((n) => runner.parallel || n === 1);
  execFileSync(process.execPath, ['esbuild.js'], { cwd: ROOT, stdio: 'pipe' });
  try {
    execFileSync('docker', ['image', 'inspect', BENCH_IMAGE], { stdio: 'pipe' });
  } catch {
    console.log(`parallel bench skipped: no Docker engine or no ${BENCH_IMAGE} (bash scripts/build-worker-image.sh)`);
    return;
  }
  const provider = await ScriptedProvider.start({
    expectedKey: KEY,
    latencyMs: latency,
    script: (req) => ({ text: 'ok (scripted provider)', usage: (req.body.scripted_usage as { input: number; output: number } | undefined) ?? { input: 0, output: 0 } }),
  });
  const replayTmp = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-pbench-replays-'));
  const abort = new AbortController();
  const stop = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', stop);
  try {
    const replays = writeRecordings(replayTmp, { tickets, calls });
    const setup = { run: runner.run, provider, replays, signal: abort.signal };
    console.log(`workload: ${tickets} independent tickets × 1 AC (own module + test, disjoint modify scopes); each Worker makes ${calls} model calls × ${latency} ms latency through the gateway to the scripted provider on loopback, then its edit; Gate: 3 pytest stages, no guard scripts; baseline skipped (once per run, not parallel work); load average at the start ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    await measure(1, 1, setup); // unmeasured: modules loaded, image layers warm
    const rows: Measured[] = [];
    for (const n of ns) {
      try {
        rows.push(await measure(n, tickets, setup));
        console.log(`  N=${n} done: ${(rows[rows.length - 1].wallMs / 1000).toFixed(1)} s`);
      } catch (err) {
        if (abort.signal.aborted) throw err;
        // One N failing says so loudly and the others are still measured; the row is missing.
        console.log(`  FAILED ${err instanceof Error ? err.message : String(err)}`);
        process.exitCode = 1;
      }
    }
    report(rows, { tickets, calls, latency, parallel: runner.parallel });
  } finally {
    process.removeListener('SIGINT', stop);
    await provider.close();
    fs.rmSync(replayTmp, { recursive: true, force: true });
  }
}
