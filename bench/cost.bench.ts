/**
 * The cost gate's saving (issue 16): the demo's cycles (scripts/demo.mjs) priced under the example's
 * routing table next to the same cycles with every role on the premium route, from the same
 * scripted token usage (examples/demo-project/replays/model-calls.json) and the price table.
 * The routes come from the real resolution (core/plan/routing.ts resolveRouting) on the real risk
 * of each ticket (core/plan/risk.ts over the example's roadmap and ledger); no cycle is run, so
 * the figures are the gateway's arithmetic, not a measurement (`npm run demo` meters the same calls).
 */
import * as path from 'node:path';
import { loadConfig } from '../src/core/config/load';
import { PriceTable, type TokenUsage } from '../src/core/config/prices';
import type { FactoryConfig } from '../src/core/config/schema';
import { resolveRouting } from '../src/core/plan/routing';
import { assessTicketRisk, ticketRiskTexts } from '../src/core/plan/risk';
import { indexWorkspace } from '../src/core/ssot/workspace';

const ROOT = path.resolve(__dirname, '..');
const EXAMPLE = path.join(ROOT, 'examples', 'demo-project');

interface CallStep { body: Record<string, unknown> }
interface DemoCalls {
  readModelCalls(dir: string): Record<string, CallStep[]>;
  scriptedUsage(body: Record<string, unknown>): { input: number; output: number };
}

/** The demo's cycles, in its order: the FAILs before each attempt and whether its Auditor runs. */
const DEMO_CYCLES: ReadonlyArray<{ ticket: string; fails: number; auditorRuns: boolean; note: string }> = [
  { ticket: 'D201', fails: 0, auditorRuns: false, note: 'PASS' },
  // HIGH, but the scope FAIL ends CHECK before the Auditor: its reserve is held, not spent.
  { ticket: 'D202', fails: 0, auditorRuns: false, note: 'FAIL (scope)' },
  { ticket: 'D302', fails: 0, auditorRuns: true, note: 'PASS + Auditor' },
  { ticket: 'D301', fails: 0, auditorRuns: false, note: 'FAIL (Gate)' },
  { ticket: 'D301', fails: 1, auditorRuns: false, note: 'FAIL (Gate)' },
  { ticket: 'D301', fails: 2, auditorRuns: true, note: 'BLOCKED, escalated → Auditor' },
];

function usageOf(calls: readonly CallStep[], demo: DemoCalls): TokenUsage {
  const u = { inputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, outputTokens: 0 };
  for (const c of calls) {
    const s = demo.scriptedUsage(c.body);
    u.inputTokens += s.input;
    u.outputTokens += s.output;
  }
  return u;
}

function cost(prices: PriceTable, model: string, usage: TokenUsage): number {
  const p = prices.lookup(model);
  if (!p) throw new Error(`no price for ${model}`);
  return PriceTable.cost(usage, p);
}

async function riskLevels(config: FactoryConfig): Promise<Map<string, { level: ReturnType<typeof assessTicketRisk>['level']; auditorRequired: boolean }>> {
  const index = await indexWorkspace(EXAMPLE, config);
  const out = new Map<string, { level: ReturnType<typeof assessTicketRisk>['level']; auditorRequired: boolean }>();
  for (const id of new Set(DEMO_CYCLES.map((c) => c.ticket))) {
    const ticket = index.tickets.find((t) => t.id === id);
    const acs = index.ledger.filter((a) => a.id.startsWith(`${id}::`) && a.status !== 'DONE');
    const modify = config.scope.tickets.filter((t) => t.ticket === id).flatMap((t) => t.modify ?? []);
    const r = assessTicketRisk({ ticketId: id, texts: ticketRiskTexts(ticket, acs), modify, files: modify, config });
    out.set(id, { level: r.level, auditorRequired: r.auditorRequired });
  }
  return out;
}

export async function run(): Promise<void> {
  const { config } = await loadConfig(EXAMPLE);
  const prices = PriceTable.withOverrides(config.prices);
  const demo = (await import(path.join(ROOT, 'scripts', 'demo-calls.mjs'))) as DemoCalls;
  const calls = demo.readModelCalls(path.join(EXAMPLE, 'replays'));
  const levels = await riskLevels(config);
  const premium = config.routing.tiers.premium.model;
  let routedTotal = 0;
  let premiumTotal = 0;
  console.log('method: price table × the recordings\' scripted usage, routes from resolveRouting on each ticket\'s assessed risk (no cycle run)');
  console.log(`cycle  ticket risk  worker (routed)                   auditor (routed)          routed     all-premium (${premium})`);
  DEMO_CYCLES.forEach((c, i) => {
    const risk = levels.get(c.ticket)!;
    const escalate = c.fails >= config.killSwitch.escalateAfterFails;
    const decision = resolveRouting({ config, ticketId: c.ticket, level: risk.level, consecutiveFails: c.fails, auditNeeded: risk.auditorRequired || escalate });
    const workerUsage = usageOf(calls[c.ticket] ?? [], demo);
    const auditUsage = c.auditorRuns ? usageOf(calls[`${c.ticket}.audit`] ?? [], demo) : undefined;
    if (c.auditorRuns && !decision.auditor) throw new Error(`${c.ticket}: the demo's Auditor runs but the routing gives none`);
    const w = cost(prices, decision.worker.model, workerUsage);
    const a = auditUsage && decision.auditor ? cost(prices, decision.auditor.model, auditUsage) : 0;
    const p = cost(prices, premium, workerUsage) + (auditUsage ? cost(prices, premium, auditUsage) : 0);
    routedTotal += w + a;
    premiumTotal += p;
    const auditor = auditUsage && decision.auditor ? `${decision.auditor.model} (${decision.auditor.tier})` : '—';
    console.log(`${String(i + 1).padEnd(6)} ${c.ticket}   ${risk.level.padEnd(5)} ${`${decision.worker.model} (${decision.worker.tier})`.padEnd(33)} ${auditor.padEnd(25)} $${(w + a).toFixed(4)}    $${p.toFixed(4)}   ${c.note}`);
  });
  console.log(`total  routed $${routedTotal.toFixed(4)} vs all-premium $${premiumTotal.toFixed(4)}: the routing table costs ${(routedTotal / premiumTotal).toFixed(2)}× the premium route (${(premiumTotal / routedTotal).toFixed(2)}× cheaper)`);
}
