import type { Command } from 'commander';
import type { AgentSandboxReport } from '../core/agents/run-agent';
import type { SandboxDeps, SandboxOptions } from '../core/sandbox/run-sandbox';
import type { GatewaySummary } from '../core/gateway/gateway';

/** The agent/gateway options of `factory sandbox` (and later `factory run`). */
export interface AgentCliOptions {
  agent?: string;
  model?: string;
  upstream?: string[];
  budgetUsd?: string;
  replay?: string;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Add `--agent`, `--model`, `--upstream PROVIDER=URL` (repeatable), `--budget-usd` and `--replay`. */
export function addAgentOptions(cmd: Command): Command {
  return cmd
    .option('--agent <name>', 'run this agent as the Worker through the model gateway (claude-code, codex, gemini, aider, custom, replay) instead of a command')
    .option('--model <id>', 'model for the agent (default: config agents.<name>.model, then the adapter\'s default)')
    .option('--upstream <provider=url>', 'override a provider\'s upstream base URL (anthropic, openai, gemini); repeatable', collect)
    .option('--budget-usd <n>', 'the cycle\'s model budget enforced by the gateway (default: config killSwitch.budgetUsd)')
    .option('--replay <file>', 'recorded edits for --agent replay');
}

/** `{requests, inputTokens, outputTokens, costUsd, refused}`: the `gateway` field of the JSON. */
export function gatewayJson(s: GatewaySummary): { requests: number; inputTokens: number; outputTokens: number; costUsd: number; refused: number } {
  return { requests: s.requests, inputTokens: s.inputTokens, outputTokens: s.outputTokens, costUsd: s.costUsd, refused: s.refused };
}

/** Parse `provider=url` pairs; a FactoryError (exit 2) names the first bad one. */
export async function parseUpstreams(pairs: readonly string[]): Promise<Record<string, string>> {
  const { FactoryError } = await import('../core/util/errors');
  const { PROVIDERS } = await import('../core/gateway/usage');
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const i = pair.indexOf('=');
    const provider = i > 0 ? pair.slice(0, i) : '';
    const url = i > 0 ? pair.slice(i + 1) : '';
    if (!(PROVIDERS as readonly string[]).includes(provider)) throw new FactoryError(`--upstream ${JSON.stringify(pair)}: provider must be one of ${PROVIDERS.join(', ')}`, 'usage');
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(url).protocol);
    } catch {
      ok = false;
    }
    if (!ok) throw new FactoryError(`--upstream ${JSON.stringify(pair)}: not an http(s) URL`, 'usage');
    out[provider] = url;
  }
  return out;
}

/**
 * Run the sandbox with an agent behind the gateway: config (prices, upstreams, agents.<name>,
 * kill-switch budget) from `.factory/config.json`, CLI flags over it, keys from the host
 * environment (ANTHROPIC_API_KEY, OPENAI_API_KEY, GEMINI_API_KEY).
 */
export async function runSandboxWithAgent(request: SandboxOptions, opts: AgentCliOptions, deps: SandboxDeps): Promise<AgentSandboxReport> {
  const { FactoryError } = await import('../core/util/errors');
  const { loadConfigStrict } = await import('../core/config/load');
  const { PriceTable } = await import('../core/config/prices');
  const { keysFromEnv } = await import('../core/gateway/gateway');
  const { getAdapter } = await import('../core/agents/registry');
  const { runAgentSandbox } = await import('../core/agents/run-agent');
  const path = await import('node:path');
  const name = opts.agent!;
  getAdapter(name);
  const { config } = await loadConfigStrict(request.root);
  const agentConfig = config.agents[name];
  let budgetUsd = config.killSwitch.budgetUsd;
  if (opts.budgetUsd !== undefined) {
    budgetUsd = Number(opts.budgetUsd);
    if (!Number.isFinite(budgetUsd) || budgetUsd <= 0) throw new FactoryError(`--budget-usd must be a positive number, got "${opts.budgetUsd}"`, 'usage');
  }
  const upstreams = { ...config.gateway.upstreams, ...(await parseUpstreams(opts.upstream ?? [])) };
  const { taskFromWorkspace } = await import('../core/agents/task-from-workspace');
  const task = await taskFromWorkspace(request.root, config, request.plan, deps.logger);
  return runAgentSandbox(
    {
      ...request,
      agent: name,
      model: opts.model ?? agentConfig?.model,
      agentArgs: agentConfig?.args,
      maxTurns: agentConfig?.maxTurns,
      agentCommand: agentConfig?.command,
      ...(opts.replay ? { replayFile: path.resolve(opts.replay) } : {}),
      budgetUsd,
      keys: keysFromEnv(),
      upstreams,
      prices: PriceTable.withOverrides(config.prices),
      task,
    },
    deps,
  );
}
