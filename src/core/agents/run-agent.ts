import * as fs from 'node:fs';
import * as path from 'node:path';
import { connectDocker } from '../docker/connect';
import type { GatewayRecord, GatewaySummary } from '../gateway/gateway';
import { redact } from '../gateway/redact';
import type { Provider } from '../gateway/usage';
import { runSandbox, type SandboxDeps, type SandboxOptions, type SandboxReport } from '../sandbox/run-sandbox';
import { findRuntime, launchRuntime, type WorkerLaunch } from '../sandbox/worker-launch';
import { atomicWrite } from '../util/atomic-write';
import { FactoryError } from '../util/errors';
import { nullLogger, type Logger } from '../util/log';
import type { PriceTable } from '../config/prices';
import { getAdapter } from './registry';
import { AGENT_PATHS, workerTaskSchema, type AgentReport, type WorkerTaskInput } from './task';
import type { AgentOutcome } from './types';

/** The image with the agent CLIs (scripts/build-agents-image.sh). */
export const DEFAULT_AGENTS_IMAGE = 'agentic-factory/worker-agents:latest';

export interface AgentSandboxOptions extends Omit<SandboxOptions, 'command' | 'env' | 'extraMounts' | 'image'> {
  /** Adapter name: claude-code, codex, gemini, aider, custom, replay. */
  agent: string;
  model?: string;
  agentArgs?: string[];
  maxTurns?: number;
  /** For `custom`. */
  agentCommand?: string[];
  /** For `replay`: the host path of the replay file (copied in read-only). */
  replayFile?: string;
  /** The cycle's model budget, enforced by the gateway. */
  budgetUsd: number;
  /** The agent's own budget flag where it has one (default: `budgetUsd`); only the gateway's cap is hard. */
  agentBudgetUsd?: number;
  /** Provider → API key (SecretStorage or host env); only the host-side gateway ever holds them. */
  keys: Partial<Record<Provider, string>>;
  /** Provider → upstream base URL override. */
  upstreams?: Partial<Record<string, string>>;
  prices: PriceTable;
  image?: string;
  /** The ACs' text, the rules document and the local gate stages for the Worker runtime. */
  task?: Omit<WorkerTaskInput, 'schema_version' | 'agent'>;
  /** The runtime bundle (dist/worker.js); found next to this bundle or in the repo's dist/. */
  runtimePath?: string;
  /** Copy the agent's evidence (agent.log, prompt.md, gate.log, gateway.jsonl, …) here. */
  evidenceDir?: string;
}

export interface AgentSandboxReport {
  sandbox: SandboxReport;
  /** The gateway's totals: `factory sandbox --json` prints these as `gateway`. */
  gateway: GatewaySummary;
  records: GatewayRecord[];
  /** What the runtime reported about the agent (untrusted, informational); null when absent. */
  agent: AgentReport | null;
  outcome: AgentOutcome;
  /** The authoritative cost: the gateway's metering. */
  costUsd: number;
  costSource: 'gateway';
}

/** The agent's task for the runtime: the caller's ACs, rules and gate stages, and the agent's settings. */
function agentTask(opts: AgentSandboxOptions, adapterName: string): WorkerTaskInput {
  return workerTaskSchema.parse({
    schema_version: 1,
    ...opts.task,
    agent: {
      name: adapterName, model: opts.model, args: opts.agentArgs ?? [], maxTurns: opts.maxTurns, budgetUsd: opts.agentBudgetUsd ?? opts.budgetUsd,
      command: opts.agentCommand, replayFile: opts.replayFile ? AGENT_PATHS.replay : undefined,
      // The agent's own cap ends a little before the container's, so the runtime can still
      // write result.json and the evidence of a run that timed out.
      timeoutSeconds: Math.max(10, Math.floor((opts.timeoutMs ?? opts.plan.timeout_minutes * 60_000) / 1000) - 20),
    },
  });
}

/** Refuse what cannot run before anything is started: a missing recording, command or image. */
async function checkAgentRun(opts: AgentSandboxOptions, deps: SandboxDeps, logger: Logger): Promise<{ image: string; docker: NonNullable<SandboxDeps['docker']>; adapterName: string; runtimeFile: string }> {
  const adapter = getAdapter(opts.agent);
  if (opts.agent === 'replay' && !opts.replayFile) throw new FactoryError('--agent replay needs a replay file', 'usage');
  if (opts.agent === 'custom' && !opts.agentCommand?.length) throw new FactoryError('--agent custom needs agents.custom.command in the config', 'usage');
  if (adapter.provider && !opts.keys[adapter.provider]) {
    logger.warn(`no API key for ${adapter.provider}: the gateway will refuse the agent's model calls`);
  }
  const runtimeFile = findRuntime(opts.runtimePath);
  const image = opts.image ?? DEFAULT_AGENTS_IMAGE;
  const docker = deps.docker ?? (await connectDocker({ signal: deps.signal })).docker;
  try {
    await docker.getImage(image).inspect();
  } catch {
    throw new FactoryError(`the Worker image ${image} is not on this engine: build it with scripts/build-agents-image.sh (base + agent CLIs) or pass --image`, 'image_missing');
  }
  return { image, docker, adapterName: adapter.name, runtimeFile };
}

/**
 * DO with a real agent: start the per-run model gateway on a Unix socket, run the Worker runtime
 * (dist/worker.js) with the chosen agent in the hardened sandbox with the socket folder mounted
 * read-only, stop the container when the gateway's budget is spent, then report the sandbox's
 * verdict together with the gateway's metered usage and the agent's outcome. Keys stay on the host.
 */
export async function runAgentSandbox(opts: AgentSandboxOptions, deps: SandboxDeps = {}): Promise<AgentSandboxReport> {
  const logger = deps.logger ?? nullLogger;
  const { image, docker, adapterName, runtimeFile } = await checkAgentRun(opts, deps, logger);
  const budgetStop = new AbortController();
  const launch = await launchRuntime({
    task: agentTask(opts, adapterName),
    runtimeFile,
    ...(opts.replayFile ? { replayFile: opts.replayFile } : {}),
    gateway: {
      keys: opts.keys, upstreams: opts.upstreams, prices: opts.prices, budgetUsd: opts.budgetUsd,
      onBudgetExceeded: (s) => {
        logger.warn(`model budget $${s.budgetUsd.toFixed(2)} spent ($${s.costUsd.toFixed(4)}): stopping the Worker`);
        budgetStop.abort(new FactoryError('model budget spent', 'budget_exceeded'));
      },
    },
    logger,
  });
  try {
    const signal = deps.signal ? AbortSignal.any([deps.signal, budgetStop.signal]) : budgetStop.signal;
    const sandbox = await runSandbox({ ...opts, image, command: launch.command, env: launch.env, extraMounts: launch.mounts }, { ...deps, docker, signal });
    const { gateway: summary, records, report: agent, reportError } = await launch.finish();
    if (agent === null && reportError && fs.existsSync(path.join(launch.outputDir, 'agent-result.json'))) logger.warn(`agent-result.json rejected: ${reportError}`);
    const outcome = agentOutcome(sandbox, summary, agent);
    if (opts.evidenceDir) await copyEvidence(launch, opts.evidenceDir, Object.values(opts.keys));
    return { sandbox, gateway: summary, records, agent, outcome, costUsd: summary.costUsd, costSource: 'gateway' };
  } finally {
    await launch.dispose();
  }
}

/** The agent's outcome: the gateway's budget cap and the sandbox's time cap overrule what the runtime reported. */
function agentOutcome(sandbox: SandboxReport, summary: GatewaySummary, agent: AgentReport | null): AgentOutcome {
  if (summary.budgetExceeded) {
    // The gateway's cap is the real one: the Worker was stopped (or gave up) because of it.
    if (sandbox.status === 'ERROR' || sandbox.status === 'PASS') sandbox.status = 'FAIL';
    sandbox.reasons = sandbox.reasons.filter((r) => r !== 'interrupted by the Controller');
    sandbox.reasons.push(`the model budget of $${summary.budgetUsd.toFixed(2)} was spent ($${summary.costUsd.toFixed(4)} metered); the gateway refused ${summary.refused} call(s) and the Worker was stopped`);
    return 'budget_exceeded';
  }
  if (sandbox.status === 'TIMEOUT') return 'timeout';
  if (!agent && sandbox.container?.status === 'killed') return 'killed';
  return agent?.outcome ?? 'unknown';
}

/** Agent evidence into the run's evidence folder: size-capped, regular files only, keys redacted. */
async function copyEvidence(launch: WorkerLaunch, evidenceDir: string, secrets: Array<string | undefined>): Promise<void> {
  const outDir = launch.outputDir;
  fs.mkdirSync(evidenceDir, { recursive: true });
  const cap = 8 * 1024 * 1024;
  for (const name of ['agent.log', 'agent.stderr.log', 'prompt.md', 'gate.log', 'agent-result.json']) {
    const src = path.join(outDir, name);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(src);
    } catch {
      continue;
    }
    if (!st.isFile()) continue;
    const fd = fs.openSync(src, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      const buf = Buffer.alloc(Math.min(st.size, cap));
      fs.readSync(fd, buf, 0, buf.length, 0);
      const text = redact(buf.toString('utf8'), secrets) + (st.size > cap ? `\n[truncated at ${cap} bytes of ${st.size}]\n` : '');
      await atomicWrite(path.join(evidenceDir, name === 'gate.log' ? 'worker-gate.log' : name), text);
    } finally {
      fs.closeSync(fd);
    }
  }
  await launch.writeRecords(path.join(evidenceDir, 'gateway.jsonl'));
}
