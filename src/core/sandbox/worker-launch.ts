import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PriceTable } from '../config/prices';
import { getAdapter } from '../agents/registry';
import { AGENT_PATHS, agentReportSchema, type AgentReport, type WorkerTaskInput } from '../agents/task';
import type { FactoryConfig } from '../config/schema';
import type { Plan } from '../contracts/plan';
import { readUntrustedJson } from '../contracts/untrusted-json';
import { ModelGateway, keysFromEnv, makeSocketDir, type GatewayOptions, type GatewayRecord, type GatewaySummary, type ProviderKeys } from '../gateway/gateway';
import type { ContainerMount } from './container-spec';
import { containerOutputDir } from './job';
import { workerIdentity } from './staging';
import type { AcceptanceCriterion } from '../ssot/model';
import { FactoryError, errorMessage } from '../util/errors';
import { nullLogger, type Logger } from '../util/log';

/** The Worker runtime bundle (dist/worker.js): `explicit`, else next to the running bundle (dist/cli.js, dist/extension.js) or in the repo's dist/. */
export function findRuntime(explicit?: string): string {
  const candidates = explicit ? [explicit] : [path.join(__dirname, 'worker.js'), path.resolve(__dirname, '..', '..', '..', 'dist', 'worker.js')];
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new FactoryError(`the Worker runtime bundle is missing (looked for ${candidates.join(', ')}; run npm run build)`, 'runtime_missing');
  return found;
}

export interface LaunchRequest {
  plan: Plan;
  config: FactoryConfig;
  acs: AcceptanceCriterion[];
  /** The Auditor's launch gets the Auditor's prompt (its instructions are `acs`); default: the Worker's. */
  role?: 'worker' | 'auditor';
  /** Text of the rules document (docs/v2/SSOT_RULES.md) for the prompt. */
  rules: string;
  /** The replay agent's recorded edits (host path). */
  replayFile?: string;
  /** Path of worker.js on the host. */
  runtimeFile?: string;
  /** Budget of this cycle (USD); default config.killSwitch.budgetUsd. */
  budgetUsd?: number;
  /** The provider keys the gateway injects (default: the host environment's, as the CLI uses). */
  keys?: ProviderKeys;
  /** Called once when the gateway refuses a call for budget: the owner stops the container. */
  onBudgetExceeded?: () => void;
  /**
   * The model the agent runs (the Auditor's routed model). Default: the plan's `model` (the
   * Worker's routed model), else `agents.<agent>.model`.
   */
  model?: string;
  /** Called with every record the gateway makes (live spend). */
  onRecord?: (r: GatewayRecord) => void;
  /** "Request changes" on the previous attempt (issue 20): the prompt's "Review comments from the previous attempt". */
  reviewComments?: WorkerTaskInput['reviewComments'];
  logger?: Logger;
}

/** What the Worker container needs besides the sandbox's own mounts, and how to read the outcome. */
export interface WorkerLaunch {
  command: string[];
  env: Record<string, string>;
  mounts: ContainerMount[];
  /** The agent's output folder on the host (mounted writable at AGENT_PATHS.agentOut). */
  outputDir: string;
  /** The gateway's call records, redacted, into `file`. */
  writeRecords(file: string): Promise<void>;
  /** The gateway's meter (the cycle's cost) and the runtime's agent-result.json, after the run. */
  finish(): Promise<{ gateway: GatewaySummary; records: GatewayRecord[]; report: AgentReport | null; reportError?: string }>;
  /**
   * Copy the agent's output (its log, stderr, prompt, command line and report: regular files
   * only, each capped) and the gateway's call records into `dest`, for a FAILed cycle whose
   * staging copy is kept for inspection. Before `dispose`.
   */
  keepOutput(dest: string): void;
  /** Stop the gateway and delete the temp folders. Idempotent. */
  dispose(): Promise<void>;
}

/** The agent runtime's launch, whoever builds its task (the cycle, the Auditor, `factory sandbox --agent`). */
export interface RuntimeLaunchRequest {
  task: WorkerTaskInput;
  /** Path of worker.js on the host. */
  runtimeFile: string;
  /** The replay agent's recorded edits (host path). */
  replayFile?: string;
  /** The per-run gateway: keys, upstreams, prices, budget and what to do once it is spent. */
  gateway: Pick<GatewayOptions, 'keys' | 'upstreams' | 'prices' | 'budgetUsd' | 'onBudgetExceeded' | 'onRecord'>;
  logger?: Logger;
}

/**
 * Prepare one Worker run of `plan.agent` (DESIGN §5): a read-only task folder holding worker.js,
 * worker-task.json (the ACs' text, the rules, the agent) and the replay file; a writable folder for
 * the agent's own output; and a per-run model gateway on a Unix socket mounted read-only — the
 * only way out of the container, metering every call against the cycle's budget.
 */
export async function prepareWorkerLaunch(req: LaunchRequest): Promise<WorkerLaunch> {
  const adapter = getAdapter(req.plan.agent);
  const agentCfg = req.config.agents[req.plan.agent];
  if (adapter.name === 'replay' && !req.replayFile) throw new FactoryError(`the replay agent needs a recording for ${req.plan.ticket_id} (--replay DIR with ${req.plan.ticket_id}.json)`, 'agent_config');
  const budgetUsd = req.budgetUsd ?? req.config.killSwitch.budgetUsd;
  const model = req.model ?? req.plan.model ?? agentCfg?.model;
  const task: WorkerTaskInput = {
    schema_version: 1,
    ...(req.role === 'auditor' ? { role: 'auditor' as const } : {}),
    acceptanceCriteria: req.acs.map((a) => ({ id: a.id, text: a.title })),
    rules: req.rules.slice(0, 200_000),
    rulesPath: req.config.ssot.rules,
    agent: {
      name: adapter.name,
      ...(model ? { model } : {}),
      args: agentCfg?.args ?? [],
      ...(agentCfg?.maxTurns ? { maxTurns: agentCfg.maxTurns } : {}),
      ...(agentCfg?.command ? { command: agentCfg.command } : {}),
      budgetUsd,
      ...(req.replayFile ? { replayFile: AGENT_PATHS.replay } : {}),
    },
    ...(req.reviewComments ? { reviewComments: req.reviewComments } : {}),
    // The Controller re-runs the Gate itself in a fresh container; a Worker-side run would only
    // double the time and leave caches (.pyc) in the changeset.
    gate: { stages: [] },
  };
  return launchRuntime({
    task,
    runtimeFile: findRuntime(req.runtimeFile),
    ...(req.replayFile ? { replayFile: req.replayFile } : {}),
    gateway: {
      keys: req.keys ?? keysFromEnv(),
      upstreams: req.config.gateway.upstreams,
      prices: PriceTable.withOverrides(req.config.prices),
      budgetUsd,
      ...(req.onBudgetExceeded ? { onBudgetExceeded: () => req.onBudgetExceeded?.() } : {}),
      ...(req.onRecord ? { onRecord: req.onRecord } : {}),
    },
    ...(req.logger ? { logger: req.logger } : {}),
  });
}

/**
 * The agent runtime's side of a Worker container: the read-only task folder (worker.js,
 * worker-task.json, the replay file), the agent's output folder (owner-only, the container
 * user's), and the per-run model gateway on a Unix socket only that user can reach.
 */
export async function launchRuntime(req: RuntimeLaunchRequest): Promise<WorkerLaunch> {
  const taskDir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-task-'));
  const agentOut = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-agent-'));
  // Only the container's user may write the agent's output (and reach the gateway socket): a
  // world-writable folder or socket would let any local user forge evidence or spend the budget.
  const owner = workerIdentity();
  fs.chmodSync(taskDir, 0o755);
  containerOutputDir(agentOut, owner);
  let gateway: ModelGateway | undefined;
  let socketDir: string | undefined;
  let disposed = false;
  const dispose = async () => {
    if (disposed) return;
    disposed = true;
    await gateway?.close().catch(() => undefined);
    for (const d of [taskDir, agentOut, socketDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
  };
  try {
    fs.copyFileSync(req.runtimeFile, path.join(taskDir, 'worker.js'));
    if (req.replayFile) fs.copyFileSync(req.replayFile, path.join(taskDir, 'replay.json'));
    for (const f of fs.readdirSync(taskDir)) fs.chmodSync(path.join(taskDir, f), 0o644);
    fs.writeFileSync(path.join(taskDir, 'worker-task.json'), JSON.stringify(req.task, null, 2) + '\n', { mode: 0o644 });
    const sock = await makeSocketDir();
    socketDir = sock.dir;
    gateway = await ModelGateway.start({ ...req.gateway, socketPath: sock.socketPath, socketOwner: owner, logger: req.logger ?? nullLogger });
  } catch (err) {
    await dispose();
    throw err;
  }
  return launchHandle(gateway, taskDir, agentOut, dispose);
}

/** The launch's mounts and its read-back of the agent's output and the gateway's meter. */
function launchHandle(gw: ModelGateway, taskDir: string, agentOut: string, dispose: () => Promise<void>): WorkerLaunch {
  return {
    // Node from the image (Debian's 18 in the base image; the agents image puts its own first).
    command: ['node', AGENT_PATHS.runtime, 'run'],
    env: { FACTORY_TASK: AGENT_PATHS.task, FACTORY_AGENT_OUT: AGENT_PATHS.agentOut, FACTORY_GATEWAY_SOCKET: AGENT_PATHS.gatewaySocket },
    mounts: [
      { hostPath: taskDir, containerPath: AGENT_PATHS.taskDir, readOnly: true },
      { hostPath: agentOut, containerPath: AGENT_PATHS.agentOut, readOnly: false },
      { hostPath: path.dirname(gw.socketPath), containerPath: AGENT_PATHS.gatewayDir, readOnly: true },
    ],
    outputDir: agentOut,
    writeRecords: (file) => gw.writeRecords(file),
    async finish() {
      const gateway = gw.summary();
      const records = gw.records();
      const file = path.join(agentOut, 'agent-result.json');
      if (!fs.existsSync(file)) return { gateway, records, report: null, reportError: 'the Worker runtime wrote no agent-result.json' };
      try {
        return { gateway, records, report: readUntrustedJson(file, agentReportSchema, 1024 * 1024, 'agent-result.json') };
      } catch (err) {
        return { gateway, records, report: null, reportError: errorMessage(err) };
      }
    },
    keepOutput: (dest) => keepOutput(agentOut, dest, gw.records()),
    dispose,
  };
}

/** A FAILed run's agent output (regular files only, each capped) and gateway records, into `dest`. */
function keepOutput(agentOut: string, dest: string, records: GatewayRecord[]): void {
  fs.mkdirSync(dest, { recursive: true, mode: 0o755 });
  for (const name of fs.readdirSync(agentOut)) {
    const from = path.join(agentOut, name);
    const st = fs.lstatSync(from, { throwIfNoEntry: false });
    // What the Worker wrote here is untrusted: no links, no folders, no more than the cap.
    if (!st?.isFile()) continue;
    let fd: number;
    try {
      fd = fs.openSync(from, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch {
      continue; // unreadable to the Controller's user (a 0600 file of another uid): skipped
    }
    try {
      const buf = Buffer.alloc(Math.min(st.size, KEPT_FILE_CAP));
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      const note = st.size > KEPT_FILE_CAP ? `\n[cut: ${st.size} bytes, the first ${KEPT_FILE_CAP} kept]\n` : '';
      fs.writeFileSync(path.join(dest, name), Buffer.concat([buf.subarray(0, n), Buffer.from(note)]), { mode: 0o644 });
    } finally {
      fs.closeSync(fd);
    }
  }
  if (records.length) fs.writeFileSync(path.join(dest, 'gateway.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n', { mode: 0o644 });
}

/** Per file of a FAILed run's agent output kept next to its staging copy. */
const KEPT_FILE_CAP = 5 * 1024 * 1024;
