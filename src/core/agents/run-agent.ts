import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readUntrustedJson } from '../contracts/untrusted-json';
import { connectDocker } from '../docker/connect';
import { ModelGateway, makeSocketDir, type GatewayRecord, type GatewaySummary } from '../gateway/gateway';
import { redact } from '../gateway/redact';
import type { Provider } from '../gateway/usage';
import { runSandbox, type SandboxDeps, type SandboxOptions, type SandboxReport } from '../sandbox/run-sandbox';
import { workerIdentity } from '../sandbox/staging';
import { atomicWrite } from '../util/atomic-write';
import { FactoryError, errorMessage } from '../util/errors';
import { nullLogger } from '../util/log';
import type { PriceTable } from '../config/prices';
import { getAdapter } from './registry';
import { AGENT_PATHS, agentReportSchema, workerTaskSchema, type AgentReport, type WorkerTaskInput } from './task';
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

/** dist/worker.js: next to the running bundle (dist/cli.js, dist/extension.js) or in the repo. */
export function findRuntime(explicit?: string): string {
  const candidates = explicit ? [explicit] : [path.join(__dirname, 'worker.js'), path.resolve(__dirname, '..', '..', '..', 'dist', 'worker.js')];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new FactoryError(`the Worker runtime bundle is missing (looked for ${candidates.join(', ')}; run npm run build)`, 'runtime_missing');
}

/**
 * DO with a real agent: start the per-run model gateway on a Unix socket, run the Worker runtime
 * (dist/worker.js) with the chosen agent in the hardened sandbox with the socket folder mounted
 * read-only, stop the container when the gateway's budget is spent, then report the sandbox's
 * verdict together with the gateway's metered usage and the agent's outcome. Keys stay on the host.
 */
export async function runAgentSandbox(opts: AgentSandboxOptions, deps: SandboxDeps = {}): Promise<AgentSandboxReport> {
  const logger = deps.logger ?? nullLogger;
  const adapter = getAdapter(opts.agent);
  if (opts.agent === 'replay' && !opts.replayFile) throw new FactoryError('--agent replay needs a replay file', 'usage', 2);
  if (opts.agent === 'custom' && !opts.agentCommand?.length) throw new FactoryError('--agent custom needs agents.custom.command in the config', 'usage', 2);
  if (adapter.provider && !opts.keys[adapter.provider]) {
    logger.warn(`no API key for ${adapter.provider}: the gateway will refuse the agent's model calls`);
  }
  const runtime = findRuntime(opts.runtimePath);
  const image = opts.image ?? DEFAULT_AGENTS_IMAGE;
  const docker = deps.docker ?? (await connectDocker({ signal: deps.signal })).docker;
  try {
    await docker.getImage(image).inspect();
  } catch {
    throw new FactoryError(`the Worker image ${image} is not on this engine: build it with scripts/build-agents-image.sh (base + agent CLIs) or pass --image`, 'image_missing', 2);
  }
  const { uid, gid } = workerIdentity();
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

  const taskDir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-task-'));
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-agent-'));
  const sock = await makeSocketDir();
  const budgetStop = new AbortController();
  let gateway: ModelGateway | undefined;
  try {
    fs.chmodSync(taskDir, 0o755);
    fs.chmodSync(outDir, 0o755);
    if (asRoot) fs.chownSync(outDir, uid, gid);
    const task = workerTaskSchema.parse({
      schema_version: 1,
      ...opts.task,
      agent: {
        name: adapter.name, model: opts.model, args: opts.agentArgs ?? [], maxTurns: opts.maxTurns, budgetUsd: opts.agentBudgetUsd ?? opts.budgetUsd,
        command: opts.agentCommand, replayFile: opts.replayFile ? AGENT_PATHS.replay : undefined,
        // The agent's own cap ends a little before the container's, so the runtime can still
        // write result.json and the evidence of a run that timed out.
        timeoutSeconds: Math.max(10, Math.floor((opts.timeoutMs ?? opts.plan.timeout_minutes * 60_000) / 1000) - 20),
      },
    });
    fs.writeFileSync(path.join(taskDir, 'worker-task.json'), JSON.stringify(task, null, 2) + '\n', { mode: 0o644 });
    fs.copyFileSync(runtime, path.join(taskDir, 'worker.js'));
    fs.chmodSync(path.join(taskDir, 'worker.js'), 0o644);
    if (opts.replayFile) {
      fs.copyFileSync(opts.replayFile, path.join(taskDir, 'replay.json'));
      fs.chmodSync(path.join(taskDir, 'replay.json'), 0o644);
    }

    gateway = await ModelGateway.start({
      socketPath: sock.socketPath, keys: opts.keys, upstreams: opts.upstreams, prices: opts.prices, budgetUsd: opts.budgetUsd, logger,
      socketOwner: { uid, gid },
      onBudgetExceeded: (s) => {
        logger.warn(`model budget $${s.budgetUsd.toFixed(2)} spent ($${s.costUsd.toFixed(4)}): stopping the Worker`);
        budgetStop.abort(new FactoryError('model budget spent', 'budget_exceeded'));
      },
    });

    const signal = deps.signal ? AbortSignal.any([deps.signal, budgetStop.signal]) : budgetStop.signal;
    const sandbox = await runSandbox(
      {
        ...opts,
        image,
        // Node from the image (Debian's 18 in the base image; the agents image puts its own first).
        command: ['node', AGENT_PATHS.runtime, 'run'],
        env: { FACTORY_TASK: AGENT_PATHS.task, FACTORY_AGENT_OUT: AGENT_PATHS.agentOut, FACTORY_GATEWAY_SOCKET: AGENT_PATHS.gatewaySocket },
        extraMounts: [
          { hostPath: taskDir, containerPath: AGENT_PATHS.taskDir, readOnly: true },
          { hostPath: sock.dir, containerPath: AGENT_PATHS.gatewayDir, readOnly: true },
          { hostPath: outDir, containerPath: AGENT_PATHS.agentOut, readOnly: false },
        ],
      },
      { ...deps, docker, signal },
    );

    const summary = gateway.summary();
    const records = gateway.records();
    let agent: AgentReport | null = null;
    try {
      agent = readUntrustedJson(path.join(outDir, 'agent-result.json'), agentReportSchema, 1024 * 1024, 'agent-result.json');
    } catch (err) {
      if (fs.existsSync(path.join(outDir, 'agent-result.json'))) logger.warn(`agent-result.json rejected: ${errorMessage(err)}`);
    }
    let outcome: AgentOutcome = agent?.outcome ?? 'unknown';
    if (summary.budgetExceeded) {
      // The gateway's cap is the real one: the Worker was stopped (or gave up) because of it.
      outcome = 'budget_exceeded';
      if (sandbox.status === 'ERROR' || sandbox.status === 'PASS') sandbox.status = 'FAIL';
      sandbox.reasons = sandbox.reasons.filter((r) => r !== 'interrupted by the Controller');
      sandbox.reasons.push(`the model budget of $${summary.budgetUsd.toFixed(2)} was spent ($${summary.costUsd.toFixed(4)} metered); the gateway refused ${summary.refused} call(s) and the Worker was stopped`);
    } else if (sandbox.status === 'TIMEOUT') {
      outcome = 'timeout';
    } else if (!agent && sandbox.container?.status === 'killed') {
      outcome = 'killed';
    }
    if (opts.evidenceDir) await copyEvidence(outDir, opts.evidenceDir, gateway, Object.values(opts.keys));
    return { sandbox, gateway: summary, records, agent, outcome, costUsd: summary.costUsd, costSource: 'gateway' };
  } finally {
    await gateway?.close().catch(() => undefined);
    for (const d of [taskDir, outDir, sock.dir]) fs.rmSync(d, { recursive: true, force: true });
  }
}

/** Agent evidence into the run's evidence folder: size-capped, regular files only, keys redacted. */
async function copyEvidence(outDir: string, evidenceDir: string, gateway: ModelGateway, secrets: Array<string | undefined>): Promise<void> {
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
  await gateway.writeRecords(path.join(evidenceDir, 'gateway.jsonl'));
}
