import * as path from 'node:path';
import type { FactoryConfig } from '../../core/config/schema';
import { BUILTIN_PRICES } from '../../core/config/prices';

/** The cycle's settings (`factory.*`), read for the workspace folder at the start of each run. */
export interface RunSettings {
  /** The Worker's agent for every ticket (an override the plan records); absent = the routing table decides. */
  agent?: string;
  /** The Worker's model for every ticket (CycleOptions.model, recorded as an override); absent = routed. */
  model?: string;
  replayDir?: string;
  requireApproval: boolean;
  /** `factory.parallel`: cycles in flight at once for "Factory: Run" (1–16; 1 = one cycle, as always). */
  parallel: number;
  /** `factory.engine.backend`: `local` or `swarm` overrides the config's `engine.backend` for this window's runs; absent = the config's. */
  backend?: 'local' | 'swarm';
}

/** A `factory.engine.backend` value as the run uses it: `local` or `swarm`; `config` (the default) or anything else = the config's choice. */
export function backendValue(v: unknown): 'local' | 'swarm' | undefined {
  return v === 'local' || v === 'swarm' ? v : undefined;
}

/** The most cycles a run keeps in flight (the core's FactoryRunOptions.parallel range). */
export const PARALLEL_MAX = 16;

/** A typed custom value (Set Parallel Cycles): an integer 1–16, else the reason it is refused. */
export function validateParallel(v: string): string | undefined {
  const n = Number(v.trim());
  return Number.isInteger(n) && n >= 1 && n <= PARALLEL_MAX ? undefined : `a whole number from 1 to ${PARALLEL_MAX}`;
}

/** A `factory.parallel` value as the run uses it: an integer 1–16 (anything else: 1). */
export function parallelValue(v: unknown): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= PARALLEL_MAX ? v : 1;
}

/** What `WorkspaceConfiguration.inspect()` returns, reduced to what is read here. */
export interface Inspected<T> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
}

/**
 * A security-relevant setting's value from the user's own settings only (SECURITY 23): a
 * repository's `.vscode/settings.json` must not switch off the review or point the replay agent
 * somewhere, so its workspace and folder values are ignored.
 */
export function userValue<T>(i: Inspected<T> | undefined, fallback: T): T {
  return i?.globalValue ?? i?.defaultValue ?? fallback;
}

/** A project-level choice (the folder's, the workspace's, else the user's), trimmed; '' = unset. */
function projectValue(i: Inspected<string> | undefined): string {
  return (i?.workspaceFolderValue ?? i?.workspaceValue ?? userValue(i, '')).trim();
}

/** The run settings from the configuration section `factory` (pure: the caller passes `inspect`). */
export function runSettings(root: string, get: <T>(key: string) => Inspected<T> | undefined): RunSettings {
  // The agent and model are the project's choice (its config picks them too); "" = Automatic.
  const agent = projectValue(get<string>('agent'));
  const model = projectValue(get<string>('model'));
  const replay = userValue(get<string>('replayDirectory'), '').trim();
  // The project's choice like the agent: where its Workers run (the config may name the swarm too).
  const backend = backendValue(projectValue(get<string>('engine.backend')));
  return {
    ...(backend ? { backend } : {}),
    ...(agent ? { agent } : {}),
    ...(model ? { model } : {}),
    ...(replay ? { replayDir: path.resolve(root, replay) } : {}),
    requireApproval: userValue(get<boolean>('review.requireApproval'), false) === true,
    // The project's choice like the agent (the picker writes the workspace setting); each cycle keeps its own budget.
    parallel: parallelValue(get<number>('parallel')?.workspaceFolderValue ?? get<number>('parallel')?.workspaceValue ?? userValue(get<number>('parallel'), 1)),
  };
}

/** How plan.json names the window's override of the Worker (CycleOptions.overrideSource); undefined without one. */
export function overrideSource(settings: Pick<RunSettings, 'agent' | 'model'>): string | undefined {
  const parts = [...(settings.agent ? [`factory.agent = ${settings.agent}`] : []), ...(settings.model ? [`factory.model = ${settings.model}`] : [])];
  return parts.length ? `the editor's Worker picker (${parts.join(', ')})` : undefined;
}

type Routing = FactoryConfig['routing'];

/** Every agent the routing table can pick as Worker: the tiers' and the explicit routes of levels and ticket rules. */
export function routedWorkerAgents(routing: Routing): string[] {
  const agents = Object.values(routing.tiers).map((t) => t.agent);
  for (const level of Object.values(routing.levels)) if (typeof level.worker === 'object') agents.push(level.worker.agent);
  for (const rule of routing.tickets) if (rule.worker && typeof rule.worker === 'object') agents.push(rule.worker.agent);
  return [...new Set(agents)];
}

/** Every agent the routing table can pick as Auditor (levels and ticket rules). */
export function routedAuditorAgents(routing: Routing): string[] {
  const agents: string[] = [];
  for (const level of Object.values(routing.levels)) if (level.auditor) agents.push(level.auditor.agent);
  for (const rule of routing.tickets) if (rule.auditor) agents.push(rule.auditor.agent);
  return [...new Set(agents)];
}

/**
 * The agents a cycle of this window may run: the Worker's (the window's override, else the
 * config's `worker.agent`, else every agent the routing table can pick) and the Auditor's
 * (`auditor.agent`, else the routed ones). What the Worker image needs, and whether the replay
 * agent's recordings are needed.
 */
export function agentsInUse(settings: Pick<RunSettings, 'agent'>, config: Pick<FactoryConfig, 'worker' | 'auditor' | 'routing'>): { worker: string[]; auditor: string[] } {
  const worker = settings.agent ? [settings.agent] : config.worker.agent ? [config.worker.agent] : routedWorkerAgents(config.routing);
  const auditor = config.auditor.agent ? [config.auditor.agent] : routedAuditorAgents(config.routing);
  return { worker, auditor };
}

/** Whether a cycle may run the replay agent (as Worker or Auditor): then it needs `factory.replayDirectory`. */
export function mayRunReplay(settings: Pick<RunSettings, 'agent'>, config: Pick<FactoryConfig, 'worker' | 'auditor' | 'routing'>): boolean {
  const { worker, auditor } = agentsInUse(settings, config);
  return [...worker, ...auditor].includes('replay');
}

/** The two choices that mean "no override": the routing table decides. */
export const AUTOMATIC = 'Automatic (routing table)';

/** Which models an agent speaks (by the model id's provider); agents not listed take any model. */
const AGENT_MODELS: Record<string, RegExp> = { 'claude-code': /^claude-/, codex: /^(gpt-|o\d)/, gemini: /^gemini-/ };

/** One entry of the Worker model picker. */
export interface ModelChoice {
  model: string;
  tier?: string;
  /** Where it comes from: `routing.tiers.economy`, `prices` (the config), `built-in price table`. */
  source: string;
}

/**
 * The models the picker offers for `agent` (undefined: any): the routing table's tier models first,
 * then the config's priced models, then the built-in price table; each once, with its tier.
 */
export function modelChoices(config: Pick<FactoryConfig, 'routing' | 'prices'>, agent?: string): ModelChoice[] {
  const fits = (m: string) => !agent || !AGENT_MODELS[agent] || AGENT_MODELS[agent].test(m);
  const out = new Map<string, ModelChoice>();
  for (const [tier, route] of Object.entries(config.routing.tiers)) {
    if ((!agent || route.agent === agent || fits(route.model)) && !out.has(route.model)) out.set(route.model, { model: route.model, tier, source: `routing.tiers.${tier}` });
  }
  for (const [model, price] of Object.entries(config.prices ?? {})) if (fits(model) && !out.has(model)) out.set(model, { model, ...(price.tier ? { tier: price.tier } : {}), source: 'prices' });
  for (const [model, price] of Object.entries(BUILTIN_PRICES)) if (fits(model) && !out.has(model)) out.set(model, { model, ...(price.tier ? { tier: price.tier } : {}), source: 'built-in price table' });
  return [...out.values()];
}
