/**
 * The cost gate (spec §7-1, issue 16): which agent and model run a ticket as Worker and, when the
 * plan needs one, as Auditor, and why. Pure: the config's `routing` table, the price table's tiers
 * and the caller's facts (risk level, consecutive FAILs, overrides) in, routes out.
 */
import picomatch from 'picomatch';
import { PriceTable } from '../config/prices';
import type { Route, WorkerRoute } from '../config/routing-schema';
import type { FactoryConfig, RiskLevel } from '../config/schema';
import type { Plan, RouteChoice } from '../contracts/plan';
import { stepUp, TIERS, type Tier } from '../contracts/tiers';
import { ADAPTERS } from '../agents/registry';
import { FactoryError } from '../util/errors';

const LEVELS: readonly RiskLevel[] = ['LOW', 'MED', 'HIGH', 'CRIT'];

/** The tier a level stands for when its Worker is an explicit route whose model has no tier. */
const NOMINAL_TIER: Record<RiskLevel, Tier> = { LOW: 'economy', MED: 'standard', HIGH: 'standard', CRIT: 'standard' };

/** An override of the table's Worker: `--agent` / `--model`, the UI's picker, or config `worker.agent`. */
export interface RouteOverride {
  agent?: string;
  model?: string;
  /** Who asked, in words: "--agent replay", "the Run panel's picker", "worker.agent in .factory/config.json". */
  source: string;
}

export interface RoutingRequest {
  config: FactoryConfig;
  ticketId: string;
  level: RiskLevel;
  /** The ticket's FAILs in a row right before this attempt (kill-switches.ts). */
  consecutiveFails: number;
  /** Whether the plan needs an Auditor (risk, or escalation after FAILs). */
  auditNeeded: boolean;
  /** Why the Auditor is needed, first lines of its `why` ("risk HIGH ≥ risk.auditorAt HIGH"). */
  auditWhy?: readonly string[];
  override?: RouteOverride;
}

export interface RoutingDecision {
  worker: RouteChoice;
  auditor?: RouteChoice;
  /** USD held back from the cycle budget for the Auditor before the Worker starts. */
  reserveUsd?: number;
  /** The override that replaced the table's Worker, in words. */
  override?: string;
}

/** The config `worker.agent` as an override's source. */
export const CONFIG_WORKER_AGENT = 'worker.agent in .factory/config.json';

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

function prices(config: FactoryConfig): PriceTable {
  return PriceTable.withOverrides(config.prices);
}

/** Index and entry of the last `routing.tickets` entry matching `ticketId` that sets `role`. */
function ticketRule<K extends 'worker' | 'auditor'>(config: FactoryConfig, ticketId: string, role: K) {
  let found: { i: number; glob: string; route: NonNullable<FactoryConfig['routing']['tickets'][number][K]> } | undefined;
  config.routing.tickets.forEach((t, i) => {
    const route = t[role];
    if (route !== undefined && picomatch.isMatch(ticketId, t.ticket)) found = { i, glob: t.ticket, route };
  });
  return found;
}

/** The Worker the table names before escalation and overrides: route, tier, why, and whether a ticket rule pinned it. */
function tableWorker(config: FactoryConfig, ticketId: string, level: RiskLevel, table: PriceTable): { route: Route; tier: Tier; why: string[]; pinned: boolean } {
  const rule = ticketRule(config, ticketId, 'worker');
  const spec: WorkerRoute = rule?.route ?? config.routing.levels[level].worker;
  const where = rule ? `ticket ${ticketId} matches routing.tickets[${rule.i}] "${rule.glob}"` : `risk ${level}`;
  const key = rule ? `routing.tickets[${rule.i}].worker` : `routing.levels.${level}.worker`;
  if (typeof spec === 'string') {
    const route = config.routing.tiers[spec];
    return { route, tier: spec, pinned: false, why: [`${where} → ${key} = ${spec} (routing.tiers.${spec}: ${route.agent} ${route.model})`] };
  }
  const tier = table.tierOf(spec.model) ?? NOMINAL_TIER[level];
  // An explicit agent + model in a ticket rule is what the user chose for exactly that ticket:
  // escalation does not replace it (a tier name in a ticket rule escalates like a level's).
  return { route: { ...spec }, tier, pinned: rule !== undefined, why: [`${where} → ${key} = ${spec.agent} ${spec.model} (${tier})`] };
}

/** Escalation on retry: `consecutiveFails` tiers up, to `routing.escalation.maxTier` at most. */
function escalate(config: FactoryConfig, w: ReturnType<typeof tableWorker>, fails: number): { route: Route; tier: Tier; why: string[] } {
  const { onFail, maxTier } = config.routing.escalation;
  if (fails <= 0) return w;
  const fell = `${plural(fails, 'consecutive FAIL')}`;
  if (!onFail) return { ...w, why: [...w.why, `${fell}; no step up (routing.escalation.onFail is false)`] };
  if (w.pinned) return { ...w, why: [...w.why, `${fell}; no step up: the ticket rule pins an explicit agent and model`] };
  const tier = stepUp(w.tier, fails, maxTier);
  const steps = TIERS.indexOf(tier) - TIERS.indexOf(w.tier);
  if (steps === 0) return { ...w, why: [...w.why, `${fell}; already at ${w.tier}, no step up (routing.escalation.maxTier ${maxTier})`] };
  const route = config.routing.tiers[tier];
  const capped = steps < fails ? `, capped at routing.escalation.maxTier ${maxTier}` : '';
  return { route: { ...route }, tier, why: [...w.why, `${fell} → ${plural(steps, 'tier')} up to ${tier}${capped} (routing.escalation; routing.tiers.${tier}: ${route.agent} ${route.model})`] };
}

/**
 * The model an agent runs when an override names the agent but not the model: the agent's
 * configured model, else the route's model when the route is on the same agent, else the
 * adapter's default, else (replay, custom: no default) the route's model.
 */
function modelForAgent(config: FactoryConfig, agent: string, route: Route): { model: string; from: string } {
  const configured = config.agents[agent]?.model;
  if (configured) return { model: configured, from: `agents.${agent}.model` };
  if (route.agent === agent) return { model: route.model, from: 'the routed model' };
  const fallback = Object.prototype.hasOwnProperty.call(ADAPTERS, agent) ? ADAPTERS[agent]?.defaultModel : undefined;
  if (fallback) return { model: fallback, from: `${agent}'s default model` };
  return { model: route.model, from: 'the routed model' };
}

/** Overrides of the Worker: the caller's (`--agent`, `--model`, picker) over config `worker.agent`. */
function applyWorkerOverride(config: FactoryConfig, w: { route: Route; tier: Tier; why: string[] }, override: RouteOverride | undefined, table: PriceTable): { choice: RouteChoice; override?: string } {
  const configAgent = config.worker.agent;
  const agent = override?.agent ?? configAgent;
  const model = override?.model;
  if (agent === undefined && model === undefined) return { choice: { ...w.route, tier: w.tier, why: w.why } };
  const sources = [
    ...(override && (override.agent !== undefined || override.model !== undefined) ? [override.source] : []),
    ...(override?.agent === undefined && configAgent !== undefined ? [CONFIG_WORKER_AGENT] : []),
  ];
  const finalAgent = agent ?? w.route.agent;
  // Refused here, before a plan names it: `factory dry --agent claud` says so instead of a later DO failure.
  if (!Object.prototype.hasOwnProperty.call(ADAPTERS, finalAgent)) {
    throw new FactoryError(`unknown agent '${finalAgent}' (${sources.join('; ')}; known: ${Object.keys(ADAPTERS).join(', ')})`, 'agent_unknown');
  }
  const picked = model !== undefined ? { model, from: 'the override' } : modelForAgent(config, finalAgent, w.route);
  const tier = table.tierOf(picked.model) ?? w.tier;
  const text = sources.join('; ');
  const why = [...w.why, `override (${text}) → ${finalAgent} ${picked.model} (model: ${picked.from}; tier ${tier}${table.has(picked.model) ? '' : ', unpriced'})`];
  return { choice: { agent: finalAgent, model: picked.model, tier, why }, override: text };
}

/** The Worker's route: ticket rule or level, escalation, overrides. */
function workerRoute(req: RoutingRequest, table: PriceTable): { choice: RouteChoice; override?: string } {
  const base = tableWorker(req.config, req.ticketId, req.level, table);
  return applyWorkerOverride(req.config, escalate(req.config, base, req.consecutiveFails), req.override, table);
}

/** The table's Auditor: ticket rule, the level's, the nearest level above with one, or the premium tier. */
function tableAuditor(config: FactoryConfig, ticketId: string, level: RiskLevel): { route: Route; why: string } {
  const rule = ticketRule(config, ticketId, 'auditor');
  if (rule) return { route: { ...rule.route }, why: `ticket ${ticketId} matches routing.tickets[${rule.i}] "${rule.glob}" → auditor ${rule.route.agent} ${rule.route.model}` };
  for (const l of LEVELS.slice(LEVELS.indexOf(level))) {
    const a = config.routing.levels[l].auditor;
    if (a) return { route: { ...a }, why: l === level ? `risk ${level} → routing.levels.${l}.auditor = ${a.agent} ${a.model}` : `risk ${level}: no routing.levels.${level}.auditor → the nearest level above, routing.levels.${l}.auditor = ${a.agent} ${a.model}` };
  }
  const p = config.routing.tiers.premium;
  return { route: { ...p }, why: `risk ${level}: no auditor at this level or above → routing.tiers.premium = ${p.agent} ${p.model}` };
}

/**
 * The Auditor's route for `ticketId` at `level` (the cycle's CHECK, and `factory audit`): the
 * table's, then config `auditor.agent` / `auditor.model` over it. `why` lines go first (the caller's
 * reason for an Auditor: "risk HIGH ≥ risk.auditorAt HIGH", "manual audit").
 */
export function auditorRoute(config: FactoryConfig, ticketId: string, level: RiskLevel, why: readonly string[] = []): RouteChoice {
  const table = prices(config);
  const t = tableAuditor(config, ticketId, level);
  const lines = [...why, t.why];
  let { agent, model } = t.route;
  const o = config.auditor;
  if (o.agent !== undefined && o.agent !== agent) {
    agent = o.agent;
    if (o.model === undefined) {
      const picked = modelForAgent(config, agent, t.route);
      model = picked.model;
      lines.push(`auditor.agent in .factory/config.json → ${agent} ${model} (model: ${picked.from})`);
    } else lines.push(`auditor.agent in .factory/config.json → ${agent}`);
  }
  if (o.model !== undefined) {
    model = o.model;
    lines.push(`auditor.model in .factory/config.json → ${model}`);
  }
  const known = table.tierOf(model);
  if (!known) lines.push(`${model} has no tier in the price table: counted as premium`);
  return { agent, model, tier: known ?? 'premium', why: lines };
}

/**
 * USD held back for the Auditor: `routing.auditReserve.usd`, else its model's price × the reserve's
 * tokens; an unpriced model at the table's highest rates (the gateway's ceiling rule).
 */
export function auditReserveUsd(config: FactoryConfig, auditorModel: string): number {
  const r = config.routing.auditReserve;
  if (r.usd !== undefined) return r.usd;
  const table = prices(config);
  const price = table.lookup(auditorModel) ?? table.ceiling();
  const usd = PriceTable.cost({ inputTokens: r.inputTokens, cachedInputTokens: 0, cacheWriteTokens: 0, outputTokens: r.outputTokens }, price);
  return Math.round(usd * 1e6) / 1e6;
}

/** The routes of one plan: Worker, and (when needed) Auditor with its reserve, and the override. */
export function resolveRouting(req: RoutingRequest): RoutingDecision {
  const table = prices(req.config);
  const worker = workerRoute(req, table);
  if (!req.auditNeeded) return { worker: worker.choice, ...(worker.override ? { override: worker.override } : {}) };
  const auditor = auditorRoute(req.config, req.ticketId, req.level, req.auditWhy);
  return {
    worker: worker.choice,
    auditor,
    reserveUsd: auditReserveUsd(req.config, auditor.model),
    ...(worker.override ? { override: worker.override } : {}),
  };
}

const usd = (n: number) => `$${n > 0 && n < 0.005 ? n.toFixed(4) : n.toFixed(2)}`;

/**
 * The plan's routes in words (`factory dry`, `factory plan`): "Worker: codex gpt-5-mini (economy) —
 * why", "Auditor: … reserve $0.38 — why" or "Auditor: not needed", and the override when there is
 * one. A plan written before routing shows its agent and model_budget.
 */
export function routingLines(plan: Pick<Plan, 'agent' | 'model' | 'model_budget' | 'routing'>): string[] {
  const r = plan.routing;
  const w = r?.worker ?? { agent: plan.agent, model: plan.model ?? "(the agent's default model)", tier: plan.model_budget, why: [] };
  const lines = [`Worker: ${w.agent} ${w.model} (${w.tier})${w.why.length ? ` — ${w.why.join('; ')}` : ''}`];
  const a = r?.auditor;
  if (a) {
    const reserve = r.reserve_usd !== undefined ? `, reserve ${usd(r.reserve_usd)}` : '';
    lines.push(`Auditor: ${a.agent} ${a.model} (${a.tier})${reserve}${a.why.length ? ` — ${a.why.join('; ')}` : ''}`);
  } else lines.push('Auditor: not needed');
  if (r?.override) lines.push(`override: ${r.override}`);
  return lines;
}
