import picomatch from 'picomatch';
import type { FactoryConfig } from '../config/schema';
import { planSchema, type Plan } from '../contracts/plan';
import { formatRunId } from '../evidence/run-id';
import type { AcceptanceCriterion, SsotIndex, Ticket } from '../ssot/model';
import { FactoryError } from '../util/errors';
import { resolveRouting, type RouteOverride, type RoutingDecision } from './routing';
import { assessTicketRisk, ticketRiskTexts, type RiskAssessment } from './risk';
import { selectWork } from './queue';
import type { DerivedScope } from './scope/scope-types';

/** The model tier a plan asks for (spec §4-2 `model_budget`, §7-1 cost gate). */
export type ModelBudget = Plan['model_budget'];

/**
 * plan.json as the Controller writes it: the contract's type (src/core/contracts/plan.ts), so a
 * built plan is exactly what the Worker and `factory sandbox` read back.
 */
export type PlanDocument = Plan;

export interface PlanRequest {
  /** Plan this ticket instead of the queue's next one. */
  ticket?: string;
  /** Worker agent override (`--agent`, the UI's picker); default: the routing table (or config `worker.agent`). */
  agent?: string;
  /** Worker model override (`--model`); without `agent`, on the routed agent. */
  model?: string;
  /** Who asked for `agent` / `model`, in words (default: "--agent X --model Y"). */
  overrideSource?: string;
  /** The ticket's FAILs in a row before this attempt: escalation on retry steps the Worker up (routing.escalation). */
  consecutiveFails?: number;
  /** The kill switches call the Auditor (consecutive FAILs ≥ killSwitch.escalateAfterFails). */
  escalate?: boolean;
  /** Repository files (relative, forward slashes) used to assess risk; `git ls-files` output. */
  files: string[];
  /** The base commit (its first 7 hex digits go into the run id; `0000000` when not a hash). */
  baseCommit: string;
  now?: Date;
  /**
   * The ticket's derived scope (plan/scope/derive.ts) with its reasons and fallback; without it,
   * the config's scope (`scopeFor`). The SSOT documents are forbidden either way.
   */
  scope?: DerivedScope;
  /** The work already chosen (the caller derived the scope for it); without it, `selectWork`. */
  work?: { ticket: Ticket | undefined; acs: AcceptanceCriterion[] };
}

export interface BuiltPlan {
  plan: PlanDocument;
  ticket: Ticket | undefined;
  acs: AcceptanceCriterion[];
  risk: RiskAssessment;
}

/** Paths of the SSOT documents: always forbidden to the Worker (spec §3-2 금지). */
export function ssotPaths(config: FactoryConfig): string[] {
  return [config.ssot.roadmap, config.ssot.ledger, config.ssot.rules, ...config.ssot.extraRoadmaps, '.factory/**'];
}

/**
 * The SSOT documents and `.factory/` added to `scope.forbidden`, and every modify entry that is
 * also forbidden dropped: a path both modifiable and forbidden is forbidden (keeps the plan honest).
 */
function forbidControllerFiles(scope: PlanDocument['scope'], config: FactoryConfig): PlanDocument['scope'] {
  const forbidden = new Set([...scope.forbidden, ...ssotPaths(config)]);
  return { modify: scope.modify.filter((g) => !forbidden.has(g)), readonly: [...new Set(scope.readonly)], forbidden: [...forbidden] };
}

/** Scope of a ticket: config defaults, then every per-ticket override whose glob matches, in order. */
export function scopeFor(ticketId: string, config: FactoryConfig): PlanDocument['scope'] {
  let modify = [...config.scope.modify];
  const readonly = new Set(config.scope.readonly);
  const forbidden = new Set(config.scope.forbidden);
  for (const o of config.scope.tickets) {
    if (!picomatch.isMatch(ticketId, o.ticket)) continue;
    if (o.modify) modify = [...o.modify];
    o.readonly?.forEach((g) => readonly.add(g));
    o.forbidden?.forEach((g) => forbidden.add(g));
  }
  return forbidControllerFiles({ modify, readonly: [...readonly], forbidden: [...forbidden] }, config);
}

/** plan.json's scope fields: the derived scope (or the config's), its reasons and its fallback. */
function planScope(ticketId: string, config: FactoryConfig, derived: DerivedScope | undefined): Pick<PlanDocument, 'scope' | 'scope_reasons' | 'scope_fallback'> {
  if (!derived) return { scope: scopeFor(ticketId, config) };
  const scope = forbidControllerFiles(derived.scope, config);
  // Reasons only for the entries the plan keeps, so plan.json never explains a path it does not hold.
  const kept = new Set([...scope.modify, ...scope.readonly, ...scope.forbidden]);
  const reasons = Object.fromEntries(Object.entries(derived.reasons).filter(([g, r]) => kept.has(g) && r.length > 0));
  return {
    scope,
    ...(Object.keys(reasons).length ? { scope_reasons: reasons } : {}),
    ...(derived.fallback ? { scope_fallback: { ...derived.fallback } } : {}),
  };
}

/** The caller's override of the Worker, with its source in words. */
function requestOverride(req: PlanRequest): RouteOverride | undefined {
  if (req.agent === undefined && req.model === undefined) return undefined;
  const flags = [...(req.agent !== undefined ? [`--agent ${req.agent}`] : []), ...(req.model !== undefined ? [`--model ${req.model}`] : [])].join(' ');
  return { ...(req.agent !== undefined ? { agent: req.agent } : {}), ...(req.model !== undefined ? { model: req.model } : {}), source: req.overrideSource ?? flags };
}

/** The routes of the plan (spec §7-1): the Auditor when the risk requires it or the kill switches escalate. */
function planRouting(config: FactoryConfig, ticketId: string, risk: RiskAssessment, req: PlanRequest): RoutingDecision {
  const auditWhy = [
    ...(risk.auditorRequired ? [`risk ${risk.level} ≥ risk.auditorAt ${config.risk.auditorAt}`] : []),
    ...(req.escalate ? [`${req.consecutiveFails ?? 0} consecutive FAILs ≥ killSwitch.escalateAfterFails ${config.killSwitch.escalateAfterFails}`] : []),
  ];
  const override = requestOverride(req);
  return resolveRouting({
    config,
    ticketId,
    level: risk.level,
    consecutiveFails: req.consecutiveFails ?? 0,
    auditNeeded: risk.auditorRequired || req.escalate === true,
    auditWhy,
    ...(override ? { override } : {}),
  });
}

/** Build plan.json for the next cycle. Pure: no I/O; the caller writes it atomically. */
export function buildPlan(index: SsotIndex, config: FactoryConfig, req: PlanRequest): BuiltPlan {
  const { ticket, acs } = req.work ?? selectWork(index, req.ticket);
  const ticketId = ticket?.id ?? acs[0]?.ticketId ?? String(req.ticket);
  const { scope, ...explained } = planScope(ticketId, config, req.scope);
  const risk = assessTicketRisk({ ticketId, texts: ticketRiskTexts(ticket, acs), modify: scope.modify, files: req.files, config });
  const profit = config.evidence.profitTickets.some((g) => picomatch.isMatch(ticketId, g));
  const criteria = ['Gate PASS (guards, then doctor → fast → regression)', 'evidence complete'];
  if (profit) criteria.push('pnl_breakdown.json present');
  const routing = planRouting(config, ticketId, risk, req);
  if (routing.auditor) criteria.push('Auditor verdict PASS');
  const now = req.now ?? new Date();
  // Validated against the plan.json contract: a scope glob that the path validator refuses (from a
  // hand-edited config) stops here, before any Worker sees it (SECURITY 17).
  const draft: PlanDocument = {
    schema_version: 1,
    // The evidence run of this cycle carries the same id (EVIDENCE_FORMAT run id rule).
    run_id: formatRunId(now, ticketId, req.baseCommit),
    ticket_id: ticketId,
    ac_ids: acs.map((a) => a.id),
    scope,
    ...explained,
    done_criteria: criteria.join(' + '),
    timeout_minutes: config.killSwitch.timeMinutes,
    model_budget: routing.worker.tier,
    risk_level: risk.level,
    ...(risk.why.length ? { risk_reasons: risk.why } : {}),
    agent: routing.worker.agent,
    model: routing.worker.model,
    routing: {
      worker: routing.worker,
      ...(routing.auditor ? { auditor: routing.auditor } : {}),
      ...(routing.reserveUsd !== undefined ? { reserve_usd: routing.reserveUsd } : {}),
      ...(routing.override ? { override: routing.override } : {}),
    },
    created_at: now.toISOString(),
  };
  const parsed = planSchema.safeParse(draft);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new FactoryError(`the plan for ${ticketId} is invalid (check .factory/config.json scope): ${problems}`, 'plan.invalid');
  }
  return { plan: parsed.data, ticket, acs, risk };
}
