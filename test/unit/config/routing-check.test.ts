import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AGENT_NAMES } from '../../../src/core/config/agent-names';
import { CONFIG_FILE, loadConfigStrict } from '../../../src/core/config/load';
import { parseConfigText } from '../../../src/core/config/parse-config';
import { BUILTIN_PRICES, PriceTable } from '../../../src/core/config/prices';
import { modelProvider, routingDiagnostics } from '../../../src/core/config/routing-check';
import { configSchema, defaultConfig, type FactoryConfigInput } from '../../../src/core/config/schema';
import { ADAPTERS } from '../../../src/core/agents/registry';
import { TIERS } from '../../../src/core/contracts/tiers';
import { FactoryError } from '../../../src/core/util/errors';

/** The config as a file, one key per line (so each key has its own line number). */
const text = (c: FactoryConfigInput) => JSON.stringify(c, null, 2);
/** 1-based line of the first line of `t` containing `needle` (after `after`, when given). */
function lineOf(t: string, needle: string, after?: string): number {
  const lines = t.split('\n');
  const start = after === undefined ? 0 : lines.findIndex((l) => l.includes(after));
  const i = lines.findIndex((l, n) => n >= start && l.includes(needle));
  assert.ok(i >= 0, `${needle} in the text`);
  return i + 1;
}

describe('cost gate config checks (issue 16)', () => {
  it('AGENT_NAMES (L1) is exactly the adapter registry', () => {
    assert.deepEqual([...AGENT_NAMES].sort(), Object.keys(ADAPTERS).sort());
  });

  it('every built-in price has a tier, and tierOf/has follow lookup (dated ids; a config price keeps the built-in tier unless it sets one)', () => {
    for (const [id, p] of Object.entries(BUILTIN_PRICES)) assert.ok(p.tier && TIERS.includes(p.tier), `${id} has a tier`);
    const t = PriceTable.withOverrides({ 'claude-opus-4-5': { inputPerMTok: 1, outputPerMTok: 2 }, 'gpt-5': { inputPerMTok: 1, outputPerMTok: 2, tier: 'standard' }, mine: { inputPerMTok: 1, outputPerMTok: 1, tier: 'economy' } });
    assert.equal(t.tierOf('claude-sonnet-4-5-20250929'), 'standard');
    assert.equal(t.tierOf('claude-haiku-4-5'), 'economy');
    assert.equal(t.tierOf('claude-opus-4-5'), 'premium', 'override without tier keeps the built-in tier');
    assert.equal(t.tierOf('gpt-5'), 'standard', 'override with a tier wins');
    assert.equal(t.tierOf('mine'), 'economy');
    assert.equal(t.tierOf('nope'), undefined);
    assert.equal(t.has('gpt-5-mini-2025-08-07'), true);
    assert.equal(t.has('nope'), false);
    assert.equal(new PriceTable({ x: { inputPerMTok: 1, outputPerMTok: 1 } }).tierOf('x'), undefined);
  });

  it('the defaults have no routing problem', () => {
    assert.deepEqual(routingDiagnostics(defaultConfig()), []);
  });

  it('an unknown agent anywhere is an error naming its key and the known agents', () => {
    const c = configSchema.parse({
      worker: { agent: 'claud' },
      auditor: { agent: 'gpt' },
      routing: {
        tiers: { economy: { agent: 'codx', model: 'gpt-5-mini' } },
        levels: { HIGH: { worker: { agent: 'aidr', model: 'gpt-4.1' }, auditor: { agent: 'x', model: 'o3' } } },
        tickets: [{ ticket: 'D1*', worker: { agent: 'y', model: 'o3' }, auditor: { agent: 'z', model: 'o3' } }],
      },
    });
    const d = routingDiagnostics(c).filter((x) => x.code === 'config.unknown-agent');
    assert.deepEqual(d.map((x) => x.path.join('.')).sort(), [
      'auditor.agent', 'routing.levels.HIGH.auditor.agent', 'routing.levels.HIGH.worker.agent', 'routing.tickets.0.auditor.agent', 'routing.tickets.0.worker.agent', 'routing.tiers.economy.agent', 'worker.agent',
    ]);
    for (const x of d) {
      assert.equal(x.severity, 'error');
      assert.match(x.message, /unknown agent ".+" \(known: claude-code, codex, gemini, aider, custom, replay\)/);
    }
  });

  it('a routed model without a price is an error with an example; a config price (or a dated id) makes it fine', () => {
    const bad = configSchema.parse({ routing: { tiers: { economy: { agent: 'codex', model: 'my-mini' } }, tickets: [{ ticket: 'X', auditor: { agent: 'codex', model: 'my-big' } }] }, auditor: { model: 'my-aud' } });
    const d = routingDiagnostics(bad).filter((x) => x.code === 'config.unpriced-model');
    assert.deepEqual(d.map((x) => x.path.join('.')).sort(), ['auditor.model', 'routing.tickets.0.auditor.model', 'routing.tiers.economy.model']);
    assert.ok(d.every((x) => x.severity === 'error'));
    assert.match(d.find((x) => x.path.includes('tiers'))!.message, /model "my-mini" has no price.*add it to prices, e\.g\. \{"prices":\{"my-mini":\{"inputPerMTok":1,"outputPerMTok":5,"tier":"standard"\}\}\}/);
    const good = configSchema.parse({ routing: { tiers: { economy: { agent: 'codex', model: 'my-mini' } }, levels: { LOW: { worker: { agent: 'codex', model: 'gpt-5-mini-2025-08-07' } } } }, prices: { 'my-mini': { inputPerMTok: 0.1, outputPerMTok: 0.2 } } });
    assert.deepEqual(routingDiagnostics(good), []);
  });

  it('at CRIT an Auditor below the Worker\'s tier, or of the same provider, is a warning', () => {
    const weak = configSchema.parse({ routing: { levels: { CRIT: { worker: 'premium', auditor: { agent: 'gemini', model: 'gemini-2.5-flash' } } } } });
    assert.deepEqual(routingDiagnostics(weak).map((x) => [x.code, x.severity, x.path.join('.')]), [['config.auditor-weaker', 'warning', 'routing.levels.CRIT.auditor.model']]);
    assert.match(routingDiagnostics(weak)[0].message, /gemini-2\.5-flash \(economy\) is a lower tier than the CRIT Worker claude-opus-4-5 \(premium\)/);
    const same = configSchema.parse({ routing: { levels: { CRIT: { worker: 'standard', auditor: { agent: 'claude-code', model: 'claude-opus-4-5' } } } } });
    assert.deepEqual(routingDiagnostics(same).map((x) => [x.code, x.severity]), [['config.auditor-same-provider', 'warning']]);
    assert.match(routingDiagnostics(same)[0].message, /both anthropic models/);
    // config auditor.model replaces the level's Auditor: the warning points at it.
    const viaOverride = configSchema.parse({ auditor: { model: 'claude-haiku-4-5' } });
    assert.deepEqual(routingDiagnostics(viaOverride).map((x) => [x.code, x.path.join('.')]), [['config.auditor-weaker', 'auditor.model'], ['config.auditor-same-provider', 'auditor.model']]);
    // An explicit CRIT Worker is judged by its model's tier.
    const explicit = configSchema.parse({ routing: { levels: { CRIT: { worker: { agent: 'codex', model: 'o3' }, auditor: { agent: 'gemini', model: 'gemini-2.5-pro' } } } } });
    assert.deepEqual(routingDiagnostics(explicit).map((x) => x.code), ['config.auditor-weaker']);
  });

  it('infers a model\'s provider from its name', () => {
    assert.equal(modelProvider('claude-sonnet-4-5'), 'anthropic');
    assert.equal(modelProvider('anthropic/claude-sonnet-4-5'), 'anthropic');
    assert.equal(modelProvider('gpt-5-mini'), 'openai');
    assert.equal(modelProvider('o3'), 'openai');
    assert.equal(modelProvider('o4-mini'), 'openai');
    assert.equal(modelProvider('models/gemini-2.5-pro'), 'gemini');
    assert.equal(modelProvider('my-model'), undefined);
  });

  describe('in parseConfigText and loadConfigStrict', () => {
    it('an unknown agent is an error on its key\'s line and the config falls back to the defaults', () => {
      const t = text({ killSwitch: { budgetUsd: 2 }, routing: { tiers: { economy: { agent: 'codx', model: 'gpt-5-mini' } } } });
      const { config, diagnostics } = parseConfigText(t);
      assert.deepEqual(diagnostics, [
        { file: CONFIG_FILE, line: lineOf(t, '"agent": "codx"'), severity: 'error', code: 'config.unknown-agent', message: 'routing.tiers.economy.agent: unknown agent "codx" (known: claude-code, codex, gemini, aider, custom, replay)' },
      ]);
      assert.deepEqual(config, defaultConfig(), 'an invalid config is not used');
    });

    it('an unpriced model is an error on its line; a warning alone keeps the file\'s config', () => {
      const t = text({ routing: { levels: { MED: { worker: { agent: 'custom', model: 'local-llm' } } } } });
      const d = parseConfigText(t).diagnostics;
      assert.equal(d.length, 1);
      assert.equal(d[0].line, lineOf(t, '"model": "local-llm"'));
      assert.equal(d[0].code, 'config.unpriced-model');
      assert.match(d[0].message, /^routing\.levels\.MED\.worker\.model: model "local-llm" has no price/);
      const w = text({ killSwitch: { budgetUsd: 2 }, routing: { levels: { CRIT: { worker: 'standard', auditor: { agent: 'claude-code', model: 'claude-opus-4-5' } } } } });
      const parsed = parseConfigText(w);
      assert.deepEqual(parsed.diagnostics.map((x) => [x.severity, x.code, x.line]), [['warning', 'config.auditor-same-provider', lineOf(w, '"model": "claude-opus-4-5"', '"CRIT"')]]);
      assert.equal(parsed.config.killSwitch.budgetUsd, 2, 'a warning does not throw the file away');
    });

    it('a warning about a key the file does not hold points at its nearest written ancestor', () => {
      // tiers.standard on an OpenAI model: the default CRIT Auditor (codex gpt-5) is then of the same provider.
      const t = text({ routing: { tiers: { standard: { agent: 'codex', model: 'gpt-5-codex' } } } });
      const d = parseConfigText(t).diagnostics;
      assert.deepEqual(d.map((x) => [x.code, x.line]), [['config.auditor-same-provider', lineOf(t, '"routing"')]]);
      assert.match(d[0].message, /^routing\.levels\.CRIT\.auditor\.model: /);
    });

    it('loadConfigStrict refuses a bad routing table with file:line: message', async () => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-routing-'));
      try {
        fs.mkdirSync(path.join(root, '.factory'));
        const t = text({ worker: { agent: 'claude' } });
        fs.writeFileSync(path.join(root, CONFIG_FILE), t);
        await assert.rejects(loadConfigStrict(root), (e: unknown) => {
          assert.ok(e instanceof FactoryError);
          assert.equal(e.code, 'config.invalid');
          assert.equal(e.message, `invalid config ${CONFIG_FILE}:${lineOf(t, '"agent": "claude"')}: worker.agent: unknown agent "claude" (known: claude-code, codex, gemini, aider, custom, replay)`);
          return true;
        });
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    });
  });
});
