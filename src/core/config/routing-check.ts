/**
 * Checks of the cost gate's table (issue 16) that the zod schema cannot make: every agent named is
 * an adapter, every routed model has a price (the budget and the tiers need one), and at CRIT the
 * Auditor is no weaker than the Worker and of another provider (spec §7-1). parse-config.ts turns
 * these into diagnostics on the line of the key; an error makes the config invalid.
 */
import { tierRank, type Tier } from '../contracts/tiers';
import { AGENT_NAMES, isAgentName } from './agent-names';
import { BUILTIN_PRICES_DATE, PriceTable } from './prices';
import type { Route, WorkerRoute } from './routing-schema';
import type { FactoryConfig } from './schema';

export interface RoutingDiagnostic {
  /** JSON path of the key in `.factory/config.json`, e.g. `['routing', 'tiers', 'economy', 'agent']`. */
  path: (string | number)[];
  severity: 'error' | 'warning';
  /** What is wrong, without the path (the caller prefixes it). */
  message: string;
  code: 'config.unknown-agent' | 'config.unpriced-model' | 'config.auditor-weaker' | 'config.auditor-same-provider';
}

type Path = (string | number)[];

/** Every route the table and the overrides name, with the path of its object. */
function routes(config: FactoryConfig): { at: Path; route: Partial<Route> }[] {
  const r = config.routing;
  const out: { at: Path; route: Partial<Route> }[] = [];
  for (const [tier, route] of Object.entries(r.tiers)) out.push({ at: ['routing', 'tiers', tier], route });
  const worker = (at: Path, w: WorkerRoute | undefined) => {
    if (w !== undefined && typeof w !== 'string') out.push({ at, route: w });
  };
  for (const [level, l] of Object.entries(r.levels)) {
    worker(['routing', 'levels', level, 'worker'], l.worker);
    if (l.auditor) out.push({ at: ['routing', 'levels', level, 'auditor'], route: l.auditor });
  }
  r.tickets.forEach((t, i) => {
    worker(['routing', 'tickets', i, 'worker'], t.worker);
    if (t.auditor) out.push({ at: ['routing', 'tickets', i, 'auditor'], route: t.auditor });
  });
  if (config.worker.agent !== undefined) out.push({ at: ['worker'], route: { agent: config.worker.agent } });
  const a = config.auditor;
  if (a.agent !== undefined || a.model !== undefined) out.push({ at: ['auditor'], route: { ...(a.agent !== undefined ? { agent: a.agent } : {}), ...(a.model !== undefined ? { model: a.model } : {}) } });
  return out;
}

/** The provider a model id belongs to, from its name (claude-… / gpt-…, o1/o3/o4…, codex… / gemini-…). */
export function modelProvider(model: string): 'anthropic' | 'openai' | 'gemini' | undefined {
  const id = model.replace(/^models\//, '').toLowerCase();
  const prefixed = /^(anthropic|openai|google|gemini)\//.exec(id)?.[1];
  if (prefixed) return prefixed === 'google' ? 'gemini' : (prefixed as 'anthropic' | 'openai' | 'gemini');
  if (id.startsWith('claude')) return 'anthropic';
  if (/^(gpt|chatgpt|codex|o\d)/.test(id)) return 'openai';
  if (id.startsWith('gemini')) return 'gemini';
  return undefined;
}

function unpricedMessage(model: string): string {
  const example = JSON.stringify({ prices: { [model]: { inputPerMTok: 1, outputPerMTok: 5, tier: 'standard' } } });
  return `model "${model}" has no price (built-in table of ${BUILTIN_PRICES_DATE}, or config prices): add it to prices, e.g. ${example} (USD per million tokens)`;
}

/** Unknown agents and unpriced models, one diagnostic each on its own key. */
function routeProblems(config: FactoryConfig, table: PriceTable): RoutingDiagnostic[] {
  const out: RoutingDiagnostic[] = [];
  for (const { at, route } of routes(config)) {
    if (route.agent !== undefined && !isAgentName(route.agent)) {
      out.push({ path: [...at, 'agent'], severity: 'error', code: 'config.unknown-agent', message: `unknown agent "${route.agent}" (known: ${AGENT_NAMES.join(', ')})` });
    }
    if (route.model !== undefined && !table.has(route.model)) {
      out.push({ path: [...at, 'model'], severity: 'error', code: 'config.unpriced-model', message: unpricedMessage(route.model) });
    }
  }
  return out;
}

/** The CRIT Worker's model and tier as the table names them (before escalation and overrides). */
function critWorker(config: FactoryConfig, table: PriceTable): { model: string; tier: Tier } {
  const w = config.routing.levels.CRIT.worker;
  if (typeof w === 'string') return { model: config.routing.tiers[w].model, tier: w };
  return { model: w.model, tier: table.tierOf(w.model) ?? 'standard' };
}

/** The CRIT Auditor (its level's, else the premium tier; config `auditor.model` over it) and the key to point at. */
function critAuditor(config: FactoryConfig): { model: string; at: Path } {
  if (config.auditor.model !== undefined) return { model: config.auditor.model, at: ['auditor', 'model'] };
  const a = config.routing.levels.CRIT.auditor;
  if (a) return { model: a.model, at: ['routing', 'levels', 'CRIT', 'auditor', 'model'] };
  return { model: config.routing.tiers.premium.model, at: ['routing', 'levels', 'CRIT'] };
}

/** Spec §7-1: at CRIT the Auditor is "a stronger model of another provider" — warnings when it is not. */
function critProblems(config: FactoryConfig, table: PriceTable): RoutingDiagnostic[] {
  const worker = critWorker(config, table);
  const auditor = critAuditor(config);
  const auditorTier = table.tierOf(auditor.model);
  const out: RoutingDiagnostic[] = [];
  if (auditorTier !== undefined && tierRank(auditorTier) < tierRank(worker.tier)) {
    out.push({
      path: auditor.at,
      severity: 'warning',
      code: 'config.auditor-weaker',
      message: `the CRIT Auditor ${auditor.model} (${auditorTier}) is a lower tier than the CRIT Worker ${worker.model} (${worker.tier}); spec §7-1 wants a stronger model`,
    });
  }
  const provider = modelProvider(auditor.model);
  if (provider !== undefined && provider === modelProvider(worker.model)) {
    out.push({
      path: auditor.at,
      severity: 'warning',
      code: 'config.auditor-same-provider',
      message: `the CRIT Auditor ${auditor.model} and the CRIT Worker ${worker.model} are both ${provider} models; spec §7-1 wants an Auditor of another provider`,
    });
  }
  return out;
}

/** Problems of `config.routing`, `worker.agent` and `auditor.*` that the schema cannot see. */
export function routingDiagnostics(config: FactoryConfig): RoutingDiagnostic[] {
  const table = PriceTable.withOverrides(config.prices);
  return [...routeProblems(config, table), ...critProblems(config, table)];
}
