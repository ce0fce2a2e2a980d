import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { PriceTable } from '../../../src/core/config/prices';
import { ModelGateway, makeSocketDir } from '../../../src/core/gateway/gateway';
import { costOf } from '../../../src/worker/shim';
import { ScriptedProvider } from '../../support/scripted-provider';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');
const TSX = pathToFileURL(require.resolve('tsx')).href;
const KEY = 'sk-host-key-runtime-cost-0123456789';

/** A `custom` agent that makes two Anthropic calls through the gateway and reports no cost itself. */
const SPENDER = `
const call = () => fetch(process.env.ANTHROPIC_BASE_URL + '/v1/messages', { method: 'POST',
  headers: { 'content-type': 'application/json', 'x-api-key': process.env.ANTHROPIC_API_KEY },
  body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }) }).then((r) => r.text());
(async () => { await call(); await call(); console.log('spent'); })().catch((e) => { console.error(e); process.exit(1); });
`;

describe('worker runtime: result.json carries the gateway\'s metered cost', function () {
  this.timeout(60_000);
  let provider: ScriptedProvider;
  let gw: ModelGateway;
  let sockDir: string;
  let dir: string;

  beforeEach(async () => {
    provider = await ScriptedProvider.start({ script: () => ({ text: 'ok', usage: { input: 30_000, output: 6_000 } }), expectedKey: KEY });
    const s = await makeSocketDir();
    sockDir = s.dir;
    gw = await ModelGateway.start({ socketPath: s.socketPath, keys: { anthropic: KEY }, upstreams: { anthropic: provider.url }, prices: PriceTable.withOverrides(), budgetUsd: 1 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-runtime-cost-'));
    for (const d of ['plan', 'work', 'out', 'agent', 'home']) fs.mkdirSync(path.join(dir, d));
    fs.writeFileSync(path.join(dir, 'plan', 'plan.json'), JSON.stringify({
      schema_version: 1, run_id: 'r1', ticket_id: 'T1', ac_ids: ['T1::AC-1'], scope: { modify: ['**'] },
      timeout_minutes: 5, model_budget: 'standard', risk_level: 'MED', agent: 'custom', created_at: '2026-12-05T10:00:00Z',
    }));
    fs.writeFileSync(path.join(dir, 'task.json'), JSON.stringify({ schema_version: 1, agent: { name: 'custom', model: 'claude-sonnet-4-5', command: [process.execPath, '-e', SPENDER] } }));
  });
  afterEach(async () => {
    await gw.close();
    await provider.close();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(sockDir, { recursive: true, force: true });
  });

  async function runtime(socket: string): Promise<Record<string, unknown>> {
    await run(process.execPath, ['--import', TSX, path.join(ROOT, 'src/worker/main.ts'), 'run'], {
      cwd: path.join(dir, 'work'),
      env: {
        PATH: process.env.PATH ?? '', HOME: path.join(dir, 'home'), FACTORY_PLAN: path.join(dir, 'plan', 'plan.json'), FACTORY_TASK: path.join(dir, 'task.json'),
        FACTORY_RESULT: path.join(dir, 'out', 'result.json'), FACTORY_AGENT_OUT: path.join(dir, 'agent'), FACTORY_GATEWAY_SOCKET: socket, FACTORY_PLAN_WAIT_MS: '1000',
      },
    }).catch((e: { code?: number; stderr?: string }) => assert.ok(e.code === 1, `runtime failed: ${e.stderr}`));
    return JSON.parse(fs.readFileSync(path.join(dir, 'out', 'result.json'), 'utf8')) as Record<string, unknown>;
  }

  it('a custom agent that spent through the gateway gets the metered figure (not its own $0)', async () => {
    const result = await runtime(gw.socketPath);
    assert.equal(provider.requests.length, 2);
    const metered = gw.summary().costUsd;
    // 2 × (30k in × $3 + 6k out × $15) per MTok = $0.36.
    assert.ok(Math.abs(metered - 0.36) < 1e-9, `metered ${metered}`);
    assert.equal(result.cost_estimate_usd, metered);
    assert.match(String(result.notes), /cost metered by the gateway \(\$0\.3600 over 2 requests\)/);
  });

  it('without a gateway the agent\'s own report stands, and the note says the meter was unreachable', async () => {
    const result = await runtime(path.join(dir, 'no-such.sock'));
    assert.equal(result.cost_estimate_usd, 0);
    assert.match(String(result.notes), /cost as reported by the agent \(the gateway meter was unreachable\)/);
  });

  it('costOf: the meter wins; an unpriced model is said so; no meter → the agent\'s figure', () => {
    assert.deepEqual(costOf({ requests: 1, costUsd: 0.175, budgetUsd: 1, priced: true }, 0), { usd: 0.175, note: 'cost metered by the gateway ($0.1750 over 1 request)' });
    assert.match(costOf({ requests: 2, costUsd: 0.5, budgetUsd: 1, priced: false }, 0.1).note, /without a price charged at the price table's highest rate/);
    assert.equal(costOf({ requests: 2, costUsd: 0.5, budgetUsd: 1, priced: false }, 0.1).usd, 0.5);
    assert.equal(costOf(undefined, 0.12).usd, 0.12);
    assert.equal(costOf(undefined, undefined).usd, 0);
  });
});
