/**
 * The in-container Worker runtime (bundled to dist/worker.js for Node >= 18, mounted read-only
 * into the Worker container). `worker.js run`: read plan.json and worker-task.json, start the
 * gateway shim, build the prompt, run the agent through its adapter, run the local gate, write
 * result.json and the agent's evidence. `worker.js replay FILE`: the replay agent's player.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { planSchema, type Plan } from '../core/contracts/plan';
import { buildPrompt } from '../core/agents/prompt';
import { PriceTable } from '../core/config/prices';
import { getAdapter } from '../core/agents/registry';
import { AGENT_PATHS, workerTaskSchema, type AgentReport, type WorkerTask } from '../core/agents/task';
import type { AgentResult } from '../core/agents/types';
import { beforeAgent, changedFiles, readBaseEntries } from './changes';
import { runLocalGate } from './gate';
import { runReplay } from './replay';
import { costOf, readMeter, startShim } from './shim';
import { waitForFile } from './wait';
import { runProcess } from './spawn';

const env = process.env;
const log = (m: string) => process.stderr.write(`[worker] ${m}\n`);

function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** The environment every agent process starts from: nothing of the container's own but basics. */
function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'LANG', 'LC_ALL', 'TZ', 'HOME'];
  // No .pyc files in the staging copy: they would show up in the changeset as the Worker's edits.
  // Nor pytest's cache folder, for the same reason.
  const out: Record<string, string> = { TERM: 'dumb', NO_COLOR: '1', CI: '1', PYTHONDONTWRITEBYTECODE: '1', PYTEST_ADDOPTS: '-p no:cacheprovider' };
  for (const k of keep) if (env[k]) out[k] = env[k]!;
  return out;
}

/** Where the runtime reads and writes: the Controller's mounts, overridable for tests. */
interface RunPaths {
  planFile: string;
  taskFile: string;
  resultFile: string;
  agentOut: string;
  socket: string;
  workdir: string;
  home: string;
}

function runPaths(): RunPaths {
  return {
    planFile: env.FACTORY_PLAN ?? '/factory/plan/plan.json',
    taskFile: env.FACTORY_TASK ?? AGENT_PATHS.task,
    resultFile: env.FACTORY_RESULT ?? '/factory/out/result.json',
    agentOut: env.FACTORY_AGENT_OUT ?? AGENT_PATHS.agentOut,
    socket: env.FACTORY_GATEWAY_SOCKET ?? AGENT_PATHS.gatewaySocket,
    workdir: process.cwd(),
    home: env.HOME ?? '/home/worker',
  };
}

async function run(): Promise<number> {
  const t0 = Date.now();
  const paths = runPaths();
  const inputs = await readInputs(paths);
  if (typeof inputs === 'number') return inputs;
  const { plan, task } = inputs;
  fs.mkdirSync(paths.agentOut, { recursive: true });
  const { adapterName, result, proc, before, meter } = await runAgent(paths, plan, task);

  const tGate = Date.now();
  const gate = result.outcome === 'success'
    ? await runLocalGate(task.gate.stages, { cwd: paths.workdir, env: baseEnv(), logFile: path.join(paths.agentOut, 'gate.log') })
    : Object.fromEntries(task.gate.stages.map((s) => [s.name, 'SKIPPED' as const]));
  const agentMs = proc.durationMs + (Date.now() - tGate);
  const files = changedFiles(paths.workdir, before);
  const pass = result.outcome === 'success' && Object.values(gate).every((v) => v === 'PASS');

  const report: AgentReport = {
    agent: result.agent, outcome: result.outcome, model: result.model, numTurns: result.numTurns, usage: result.usage,
    costUsd: result.costUsd, costSource: result.costSource, errors: result.errors.slice(0, 50), warnings: result.warnings.slice(0, 50),
    finalText: result.finalText?.slice(0, 20_000), exitCode: proc.code, durationMs: Date.now() - t0, agentMs, gate,
  };
  fs.writeFileSync(path.join(paths.agentOut, 'agent-result.json'), JSON.stringify(report, null, 2) + '\n');
  const cost = costOf(meter, result.costUsd);
  const resultJson = {
    ticket_id: plan.ticket_id,
    status: pass ? 'PASS' : 'FAIL',
    gate_results: gate,
    files_changed: files.slice(0, 10_000),
    kpi_summary: {},
    duration_seconds: Math.round((Date.now() - t0) / 1000),
    model_used: `${adapterName}${result.model ? `:${result.model}` : ''}`,
    cost_estimate_usd: cost.usd,
    notes: `agent outcome: ${result.outcome}; ${cost.note}${result.errors.length ? `; ${result.errors.slice(0, 3).join('; ')}` : ''}`.slice(0, 20_000),
  };
  fs.writeFileSync(paths.resultFile, JSON.stringify(resultJson, null, 2) + '\n');
  return pass ? 0 : 1;
}

/** plan.json (once the Controller writes it) and worker-task.json, or the exit code when there are none. */
async function readInputs(paths: RunPaths): Promise<{ plan: Plan; task: WorkerTask } | number> {
  // The cycle starts this container while it takes its snapshot of the staging copy, and writes
  // plan.json only once that is done: nothing may touch the workspace before.
  const waitMs = Number(env.FACTORY_PLAN_WAIT_MS ?? 120_000);
  if (!(await waitForFile(paths.planFile, Number.isFinite(waitMs) ? waitMs : 120_000))) {
    log(`no plan at ${paths.planFile} after ${Math.round(waitMs / 1000)} s: the Controller never sent one`);
    return 2;
  }
  try {
    return { plan: planSchema.parse(readJson(paths.planFile)), task: workerTaskSchema.parse(readJson(paths.taskFile)) };
  } catch (err) {
    log(`cannot read the plan or the task: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
}

/** Run the agent through its adapter behind the gateway shim, and parse what it reported. */
async function runAgent(paths: RunPaths, plan: Plan, task: WorkerTask) {
  const { agentOut, socket, workdir } = paths;
  const adapter = getAdapter(task.agent.name);
  const shim = fs.existsSync(socket) ? await startShim(socket) : undefined;
  if (!shim) log(`no gateway socket at ${socket}: the agent has no way to reach a model`);
  const gatewayUrl = shim?.url ?? 'http://127.0.0.1:9';

  const promptFile = path.join(agentOut, 'prompt.md');
  fs.writeFileSync(promptFile, buildPrompt(plan, task));
  const inv = adapter.invocation({
    workdir, promptFile, homeDir: paths.home, gatewayUrl, outDir: agentOut,
    model: task.agent.model, maxTurns: task.agent.maxTurns, budgetUsd: task.agent.budgetUsd, extraArgs: task.agent.args,
    command: task.agent.command, replayFile: task.agent.replayFile, runtimeArgv: [process.execPath, __filename],
  });
  for (const f of inv.files ?? []) {
    fs.mkdirSync(path.dirname(f.path), { recursive: true });
    fs.writeFileSync(f.path, f.content, { mode: 0o600 });
  }
  fs.writeFileSync(path.join(agentOut, 'cmd_history.txt'), `${inv.argv.map((a) => (/^[\w./:=@-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')}\n`);

  // The prices are only for agents that report no cost; the gateway's metering is authoritative.
  const parser = adapter.parser(PriceTable.withOverrides(), task.agent.model ?? adapter.defaultModel);
  const before = beforeAgent(workdir, undefined, readBaseEntries(path.join(path.dirname(paths.planFile), 'base-entries')));
  log(`running ${adapter.name} (${inv.argv[0]}) via ${gatewayUrl}`);
  const proc = await runProcess({
    argv: inv.argv, env: { ...baseEnv(), ...inv.env }, cwd: workdir, stdinFile: inv.stdinFile,
    timeoutMs: task.agent.timeoutSeconds ? task.agent.timeoutSeconds * 1000 : undefined,
    onStdout: (c) => parser.push(c),
    stdoutFile: path.join(agentOut, 'agent.log'), stderrFile: path.join(agentOut, 'agent.stderr.log'),
  });
  for (const side of inv.sideLogs ?? []) {
    try {
      parser.push(fs.readFileSync(side, 'utf8') + '\n');
    } catch {
      /* the agent wrote none */
    }
  }
  const result: AgentResult = parser.finish({
    code: proc.code, signal: proc.signal, timedOut: proc.timedOut, stderr: proc.spawnError ? `cannot start ${inv.argv[0]}: ${proc.spawnError}` : proc.stderrTail,
  });
  if (proc.spawnError) result.outcome = 'agent_error';
  // Every call the agent made is recorded by now: it ended, and the gateway records before it answers the end.
  const meter = shim ? await readMeter(shim.url) : undefined;
  if (shim && !meter) log('the gateway meter did not answer: result.json carries the agent\'s own cost');
  await shim?.close();
  log(`agent ${adapter.name}: ${result.outcome}${result.errors.length ? ` (${result.errors[0]})` : ''}`);
  return { adapterName: adapter.name, result, proc, before, meter };
}

async function main(): Promise<void> {
  const [cmd, arg] = process.argv.slice(2);
  if (cmd === 'replay' && arg) process.exitCode = await runReplay(arg);
  else if (cmd === 'run' || cmd === undefined) {
    // Everything is written (stdout and stderr are pipes, written synchronously on Linux): end
    // now rather than when the last handle happens to close — the cycle waits for this exit.
    process.exit(await run());
  }
  else {
    process.stderr.write('usage: worker.js run | worker.js replay FILE\n');
    process.exitCode = 2;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[worker] internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 70;
});
