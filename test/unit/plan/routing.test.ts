import { strict as assert } from 'node:assert';
import { configSchema, defaultConfig, type FactoryConfig, type FactoryConfigInput, type RiskLevel } from '../../../src/core/config/schema';
import { FactoryError } from '../../../src/core/util/errors';
import { auditorRoute, auditReserveUsd, CONFIG_WORKER_AGENT, resolveRouting, type RoutingRequest } from '../../../src/core/plan/routing';

const cfg = (c: FactoryConfigInput = {}): FactoryConfig => configSchema.parse(c);
const route = (config: FactoryConfig, level: RiskLevel, extra: Partial<RoutingRequest> = {}) =>
  resolveRouting({ config, ticketId: 'D101', level, consecutiveFails: 0, auditNeeded: level === 'HIGH' || level === 'CRIT', ...extra });
const am = (r: { agent: string; model: string; tier: string }) => `${r.agent} ${r.model} ${r.tier}`;

describe('cost gate routing (spec §7-1, issue 16)', () => {
  describe('the table by risk level (defaults)', () => {
    it('LOW → codex on the economy model, no Auditor', () => {
      const r = route(defaultConfig(), 'LOW');
      assert.equal(am(r.worker), 'codex gpt-5-mini economy');
      assert.deepEqual(r.worker.why, ['risk LOW → routing.levels.LOW.worker = economy (routing.tiers.economy: codex gpt-5-mini)']);
      assert.equal(r.auditor, undefined);
      assert.equal(r.reserveUsd, undefined);
      assert.equal(r.override, undefined);
    });

    it('MED → claude-code on the standard model, no Auditor', () => {
      const r = route(defaultConfig(), 'MED');
      assert.equal(am(r.worker), 'claude-code claude-sonnet-4-5 standard');
      assert.equal(r.auditor, undefined);
    });

    it('HIGH → standard Worker + the Auditor on claude-opus-4-5, with its reserve', () => {
      const r = route(defaultConfig(), 'HIGH', { auditWhy: ['risk HIGH ≥ risk.auditorAt HIGH'] });
      assert.equal(am(r.worker), 'claude-code claude-sonnet-4-5 standard');
      assert.equal(am(r.auditor!), 'claude-code claude-opus-4-5 premium');
      assert.deepEqual(r.auditor!.why, ['risk HIGH ≥ risk.auditorAt HIGH', 'risk HIGH → routing.levels.HIGH.auditor = claude-code claude-opus-4-5']);
      // 50 000 input × $5/M + 5 000 output × $25/M
      assert.equal(r.reserveUsd, 0.375);
    });

    it('CRIT → standard Worker + an Auditor of another provider (codex gpt-5)', () => {
      const r = route(defaultConfig(), 'CRIT');
      assert.equal(am(r.worker), 'claude-code claude-sonnet-4-5 standard');
      assert.equal(am(r.auditor!), 'codex gpt-5 premium');
      // 50 000 × $1.25/M + 5 000 × $10/M
      assert.equal(r.reserveUsd, 0.1125);
    });

    it('an explicit level route takes its tier from the price table, else the level\'s nominal tier', () => {
      const c = cfg({ routing: { levels: { MED: { worker: { agent: 'gemini', model: 'gemini-2.5-flash' } }, LOW: { worker: { agent: 'custom', model: 'local' } } } }, prices: { local: { inputPerMTok: 0, outputPerMTok: 0 } } });
      assert.equal(am(route(c, 'MED').worker), 'gemini gemini-2.5-flash economy');
      assert.deepEqual(route(c, 'MED').worker.why, ['risk MED → routing.levels.MED.worker = gemini gemini-2.5-flash (economy)']);
      assert.equal(am(route(c, 'LOW').worker), 'custom local economy');
    });
  });

  describe('per-ticket rules', () => {
    const c = cfg({
      routing: {
        tickets: [
          { ticket: 'D1*', worker: 'premium' },
          { ticket: 'D10?', worker: { agent: 'gemini', model: 'gemini-2.5-pro' } },
          { ticket: 'DOC-*', worker: 'economy', auditor: { agent: 'gemini', model: 'gemini-2.5-pro' } },
        ],
      },
    });

    it('match by glob; the last match wins; a tier name resolves through routing.tiers', () => {
      const r = resolveRouting({ config: c, ticketId: 'D150', level: 'LOW', consecutiveFails: 0, auditNeeded: false });
      assert.equal(am(r.worker), 'claude-code claude-opus-4-5 premium');
      assert.deepEqual(r.worker.why, ['ticket D150 matches routing.tickets[0] "D1*" → routing.tickets[0].worker = premium (routing.tiers.premium: claude-code claude-opus-4-5)']);
      const last = resolveRouting({ config: c, ticketId: 'D101', level: 'LOW', consecutiveFails: 0, auditNeeded: false });
      assert.equal(am(last.worker), 'gemini gemini-2.5-pro standard');
      assert.match(last.worker.why[0] ?? '', /routing\.tickets\[1\] "D10\?"/);
      const none = resolveRouting({ config: c, ticketId: 'X1', level: 'LOW', consecutiveFails: 0, auditNeeded: false });
      assert.equal(am(none.worker), 'codex gpt-5-mini economy');
    });

    it('an Auditor rule replaces the level\'s Auditor', () => {
      const r = resolveRouting({ config: c, ticketId: 'DOC-3', level: 'HIGH', consecutiveFails: 0, auditNeeded: true });
      assert.equal(am(r.worker), 'codex gpt-5-mini economy');
      assert.equal(am(r.auditor!), 'gemini gemini-2.5-pro standard');
      assert.deepEqual(r.auditor!.why, ['ticket DOC-3 matches routing.tickets[2] "DOC-*" → auditor gemini gemini-2.5-pro']);
    });

    it('escalation steps a ticket rule\'s tier name up, but never replaces its explicit agent + model', () => {
      const tierRule = resolveRouting({ config: c, ticketId: 'DOC-1', level: 'LOW', consecutiveFails: 1, auditNeeded: false });
      assert.equal(am(tierRule.worker), 'claude-code claude-sonnet-4-5 standard');
      const pinned = resolveRouting({ config: c, ticketId: 'D101', level: 'LOW', consecutiveFails: 2, auditNeeded: false });
      assert.equal(am(pinned.worker), 'gemini gemini-2.5-pro standard');
      assert.equal(pinned.worker.why[1], '2 consecutive FAILs; no step up: the ticket rule pins an explicit agent and model');
    });
  });

  describe('escalation on retry (routing.escalation)', () => {
    it('0 / 1 / 2 / 3 consecutive FAILs from economy: economy, standard, premium, premium (capped)', () => {
      const at = (n: number) => route(defaultConfig(), 'LOW', { consecutiveFails: n }).worker;
      assert.equal(am(at(0)), 'codex gpt-5-mini economy');
      assert.equal(am(at(1)), 'claude-code claude-sonnet-4-5 standard');
      assert.equal(at(1).why[1], '1 consecutive FAIL → 1 tier up to standard (routing.escalation; routing.tiers.standard: claude-code claude-sonnet-4-5)');
      assert.equal(am(at(2)), 'claude-code claude-opus-4-5 premium');
      assert.equal(at(2).why[1], '2 consecutive FAILs → 2 tiers up to premium (routing.escalation; routing.tiers.premium: claude-code claude-opus-4-5)');
      assert.equal(am(at(3)), 'claude-code claude-opus-4-5 premium');
      assert.equal(at(3).why[1], '3 consecutive FAILs → 2 tiers up to premium, capped at routing.escalation.maxTier premium (routing.escalation; routing.tiers.premium: claude-code claude-opus-4-5)');
    });

    it('maxTier caps the step; a Worker already at the cap stays, and says so', () => {
      const c = cfg({ routing: { escalation: { maxTier: 'standard' } } });
      assert.equal(am(route(c, 'LOW', { consecutiveFails: 2 }).worker), 'claude-code claude-sonnet-4-5 standard');
      const med = route(c, 'MED', { consecutiveFails: 1 }).worker;
      assert.equal(am(med), 'claude-code claude-sonnet-4-5 standard');
      assert.equal(med.why[1], '1 consecutive FAIL; already at standard, no step up (routing.escalation.maxTier standard)');
    });

    it('onFail false: no step up, the why says so', () => {
      const r = route(cfg({ routing: { escalation: { onFail: false } } }), 'LOW', { consecutiveFails: 2 }).worker;
      assert.equal(am(r), 'codex gpt-5-mini economy');
      assert.equal(r.why[1], '2 consecutive FAILs; no step up (routing.escalation.onFail is false)');
    });

    it('an explicit level route escalates from its model\'s tier to routing.tiers', () => {
      const c = cfg({ routing: { levels: { MED: { worker: { agent: 'gemini', model: 'gemini-2.5-flash' } } } } });
      assert.equal(am(route(c, 'MED', { consecutiveFails: 1 }).worker), 'claude-code claude-sonnet-4-5 standard');
    });
  });

  describe('the Auditor', () => {
    it('a level without one takes the nearest level above; none at or above → routing.tiers.premium', () => {
      const low = route(defaultConfig(), 'LOW', { auditNeeded: true, consecutiveFails: 2 });
      assert.equal(am(low.auditor!), 'claude-code claude-opus-4-5 premium');
      assert.equal(low.auditor!.why[0], 'risk LOW: no routing.levels.LOW.auditor → the nearest level above, routing.levels.HIGH.auditor = claude-code claude-opus-4-5');
      const c = cfg({ routing: { levels: { HIGH: { worker: 'standard' }, CRIT: { worker: 'premium' } }, tiers: { premium: { agent: 'gemini', model: 'gemini-2.5-pro' } } } });
      const high = route(c, 'HIGH');
      assert.equal(am(high.auditor!), 'gemini gemini-2.5-pro standard');
      assert.equal(high.auditor!.why[0], 'risk HIGH: no auditor at this level or above → routing.tiers.premium = gemini gemini-2.5-pro');
      const med = route(cfg({ routing: { levels: { HIGH: { worker: 'standard' } } } }), 'MED', { auditNeeded: true });
      assert.equal(am(med.auditor!), 'codex gpt-5 premium', 'HIGH has none: CRIT\'s');
    });

    it('config auditor.agent / auditor.model override the table, and the why says so', () => {
      const agentOnly = route(cfg({ auditor: { agent: 'gemini' } }), 'HIGH');
      assert.equal(am(agentOnly.auditor!), 'gemini gemini-2.5-pro standard');
      assert.equal(agentOnly.auditor!.why.at(-1), "auditor.agent in .factory/config.json → gemini gemini-2.5-pro (model: gemini's default model)");
      const configured = route(cfg({ auditor: { agent: 'codex' }, agents: { codex: { model: 'o3' } } }), 'HIGH');
      assert.equal(am(configured.auditor!), 'codex o3 premium');
      const both = route(cfg({ auditor: { agent: 'gemini', model: 'gemini-2.5-flash' } }), 'CRIT');
      assert.equal(am(both.auditor!), 'gemini gemini-2.5-flash economy');
      assert.deepEqual(both.auditor!.why.slice(1), ['auditor.agent in .factory/config.json → gemini', 'auditor.model in .factory/config.json → gemini-2.5-flash']);
      const modelOnly = route(cfg({ auditor: { model: 'o3' } }), 'CRIT');
      assert.equal(am(modelOnly.auditor!), 'codex o3 premium');
    });

    it('auditorRoute (factory audit) is the same choice, with the caller\'s why first; an unpriced model counts as premium', () => {
      const a = auditorRoute(defaultConfig(), 'D1', 'CRIT', ['manual audit (factory audit)']);
      assert.deepEqual(a, { agent: 'codex', model: 'gpt-5', tier: 'premium', why: ['manual audit (factory audit)', 'risk CRIT → routing.levels.CRIT.auditor = codex gpt-5'] });
      const unpriced = auditorRoute(cfg({ auditor: { model: 'mystery' } }), 'D1', 'HIGH');
      assert.equal(unpriced.tier, 'premium');
      assert.equal(unpriced.why.at(-1), 'mystery has no tier in the price table: counted as premium');
    });
  });

  describe('the Auditor reserve (routing.auditReserve)', () => {
    it('price × tokens; a fixed usd wins; an unpriced model at the table\'s highest rates', () => {
      assert.equal(auditReserveUsd(defaultConfig(), 'claude-opus-4-5'), 0.375);
      assert.equal(auditReserveUsd(cfg({ routing: { auditReserve: { inputTokens: 100_000, outputTokens: 10_000 } } }), 'gpt-5'), 0.225);
      assert.equal(auditReserveUsd(cfg({ routing: { auditReserve: { usd: 0.2 } } }), 'claude-opus-4-5'), 0.2);
      // Ceiling = claude-opus-4-1 / -4: $15 in, $75 out → 0.75 + 0.375.
      assert.equal(auditReserveUsd(defaultConfig(), 'mystery'), 1.125);
      assert.equal(auditReserveUsd(cfg({ prices: { mine: { inputPerMTok: 2, outputPerMTok: 4 } } }), 'mine'), 0.12);
    });

    it('resolveRouting reserves only when there is an Auditor', () => {
      assert.equal(route(defaultConfig(), 'HIGH', { auditNeeded: false }).reserveUsd, undefined);
      assert.equal(route(cfg({ routing: { auditReserve: { usd: 0.3 } } }), 'LOW', { auditNeeded: true }).reserveUsd, 0.3);
    });
  });

  describe('overrides (--agent, --model, the UI picker, config worker.agent)', () => {
    it('--agent without --model: the agent\'s configured model, else the route\'s when on the same agent, else the adapter default, else the route\'s', () => {
      const o = (agent: string, c = defaultConfig(), level: RiskLevel = 'LOW') => route(c, level, { override: { agent, source: `--agent ${agent}` } });
      const configured = o('gemini', cfg({ agents: { gemini: { model: 'gemini-2.5-flash' } } }));
      assert.equal(am(configured.worker), 'gemini gemini-2.5-flash economy');
      assert.equal(configured.override, '--agent gemini');
      assert.equal(configured.worker.why.at(-1), 'override (--agent gemini) → gemini gemini-2.5-flash (model: agents.gemini.model; tier economy)');
      assert.equal(am(o('codex').worker), 'codex gpt-5-mini economy', 'same agent as the route: its model');
      assert.equal(am(o('claude-code').worker), 'claude-code claude-sonnet-4-5 standard', 'the adapter default, tier from the price table');
      const replay = o('replay', defaultConfig(), 'MED');
      assert.equal(am(replay.worker), 'replay claude-sonnet-4-5 standard', 'replay has no default: the routed model');
    });

    it('--model alone keeps the routed agent; --agent + --model set both; an unpriced model keeps the route\'s tier and says unpriced', () => {
      const m = route(defaultConfig(), 'LOW', { override: { model: 'gpt-5', source: '--model gpt-5' } });
      assert.equal(am(m.worker), 'codex gpt-5 premium');
      assert.equal(m.override, '--model gpt-5');
      const both = route(defaultConfig(), 'MED', { override: { agent: 'aider', model: 'mystery', source: 'the Run panel\'s picker' } });
      assert.equal(am(both.worker), 'aider mystery standard');
      assert.equal(both.worker.why.at(-1), "override (the Run panel's picker) → aider mystery (model: the override; tier standard, unpriced)");
    });

    it('config worker.agent overrides every ticket (recorded); --agent wins over it; --model combines with it', () => {
      const c = cfg({ worker: { agent: 'replay' } });
      const r = route(c, 'LOW');
      assert.equal(am(r.worker), 'replay gpt-5-mini economy');
      assert.equal(r.override, CONFIG_WORKER_AGENT);
      assert.equal(route(c, 'LOW', { override: { agent: 'codex', source: '--agent codex' } }).override, '--agent codex');
      const mixed = route(c, 'LOW', { override: { model: 'o3', source: '--model o3' } });
      assert.equal(am(mixed.worker), 'replay o3 premium');
      assert.equal(mixed.override, `--model o3; ${CONFIG_WORKER_AGENT}`);
    });

    it('an unknown override agent is refused with the known ones (agent_unknown)', () => {
      assert.throws(
        () => route(defaultConfig(), 'LOW', { override: { agent: 'claud', source: '--agent claud' } }),
        (e: unknown) => e instanceof FactoryError && e.code === 'agent_unknown' && e.message === "unknown agent 'claud' (--agent claud; known: claude-code, aider, codex, gemini, custom, replay)",
      );
    });

    it('an override replaces the escalated route; the why keeps every rule applied', () => {
      const r = route(defaultConfig(), 'LOW', { consecutiveFails: 1, override: { agent: 'codex', source: '--agent codex' } });
      assert.equal(am(r.worker), 'codex gpt-5-codex standard');
      assert.equal(r.worker.why.length, 3);
      assert.match(r.worker.why[1] ?? '', /^1 consecutive FAIL → 1 tier up/);
      assert.match(r.worker.why[2] ?? '', /^override \(--agent codex\) → codex gpt-5-codex \(model: codex's default model; tier standard\)$/);
    });
  });
});
