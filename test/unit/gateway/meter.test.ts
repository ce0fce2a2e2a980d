import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { PriceTable } from '../../../src/core/config/prices';
import { ModelGateway, makeSocketDir, type GatewayRecord } from '../../../src/core/gateway/gateway';
import { METER_PATH, matchRoute } from '../../../src/core/gateway/routes';
import { ScriptedProvider } from '../../support/scripted-provider';

const KEY = 'sk-real-host-key-meter-0123456789';
const prices = PriceTable.withOverrides({ 'test-model': { inputPerMTok: 3, outputPerMTok: 15 } });

function call(socketPath: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const message = JSON.stringify({ model: 'test-model', messages: [{ role: 'user', content: 'hi' }] });

describe('gateway: the onRecord hook and the runtime\'s meter endpoint', () => {
  let provider: ScriptedProvider;
  let gw: ModelGateway;
  let dir: string;
  let seen: GatewayRecord[];
  let throwing: boolean;

  beforeEach(async () => {
    provider = await ScriptedProvider.start({ script: () => ({ text: 'ok', usage: { input: 1000, output: 500 } }), expectedKey: KEY });
    const s = await makeSocketDir();
    dir = s.dir;
    seen = [];
    throwing = false;
    gw = await ModelGateway.start({
      socketPath: s.socketPath, keys: { anthropic: KEY, openai: KEY }, upstreams: { anthropic: provider.url, openai: provider.url }, prices, budgetUsd: 0.02,
      onRecord: (r) => {
        seen.push(r);
        if (throwing) throw new Error('listener bug');
      },
    });
  });
  afterEach(async () => {
    await gw.close();
    await provider.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('onRecord fires once per kept record (forwarded and refused), with what records() keeps', async () => {
    assert.equal((await call(gw.socketPath, 'POST', '/anthropic/v1/messages', message)).status, 200);
    assert.equal(seen.length, 1, 'fired when the first call is recorded');
    assert.equal(seen[0].costUsd, 0.0105);
    assert.equal((await call(gw.socketPath, 'POST', '/anthropic/v1/files', '{}')).status, 403);
    assert.equal((await call(gw.socketPath, 'POST', '/anthropic/v1/messages', message)).status, 200);
    // $0.021 spent: the budget of $0.02 refuses the next one.
    assert.equal((await call(gw.socketPath, 'POST', '/anthropic/v1/messages', message)).status, 402);
    assert.deepEqual(seen, gw.records());
    assert.deepEqual(seen.map((r) => r.refused ?? 'ok'), ['ok', 'not_allowed', 'ok', 'budget']);
  });

  it('a listener that throws is logged and ignored: the call and the records go on', async () => {
    throwing = true;
    assert.equal((await call(gw.socketPath, 'POST', '/anthropic/v1/messages', message)).status, 200);
    assert.equal((await call(gw.socketPath, 'POST', '/anthropic/v1/messages', message)).status, 200);
    assert.equal(gw.records().length, 2);
    assert.equal(seen.length, 2);
  });

  it('GET /_factory/meter answers the spend so far as numbers only; it is not recorded, metered or forwarded', async () => {
    const before = await call(gw.socketPath, 'GET', METER_PATH);
    assert.equal(before.status, 200);
    assert.deepEqual(JSON.parse(before.body), { requests: 0, costUsd: 0, budgetUsd: 0.02, priced: true });
    await call(gw.socketPath, 'POST', '/anthropic/v1/messages', message);
    const after = await call(gw.socketPath, 'GET', METER_PATH);
    const m = JSON.parse(after.body) as Record<string, unknown>;
    assert.deepEqual(m, { requests: 1, costUsd: 0.0105, budgetUsd: 0.02, priced: true });
    assert.ok(!after.body.includes(KEY));
    assert.equal(provider.requests.length, 1, 'only the model call reached the upstream');
    assert.equal(gw.records().length, 1, 'the meter questions are not records');
    assert.equal(seen.length, 1);
  });

  it('the meter waits for calls in flight to be recorded, so a question right after the agent ends sees its last call', async () => {
    await gw.close();
    await provider.close();
    provider = await ScriptedProvider.start({ script: () => ({ text: 'slow', usage: { input: 1000, output: 500 } }), expectedKey: KEY, eventDelayMs: 60 });
    const s = await makeSocketDir();
    fs.rmSync(dir, { recursive: true, force: true });
    dir = s.dir;
    gw = await ModelGateway.start({ socketPath: s.socketPath, keys: { anthropic: KEY }, upstreams: { anthropic: provider.url }, prices, budgetUsd: 1 });
    const streaming = call(gw.socketPath, 'POST', '/anthropic/v1/messages', JSON.stringify({ model: 'test-model', messages: [], stream: true }));
    while (provider.requests.length < 1) await new Promise((r) => setTimeout(r, 5));
    const m = JSON.parse((await call(gw.socketPath, 'GET', METER_PATH)).body) as { requests: number; costUsd: number };
    assert.deepEqual([m.requests, m.costUsd], [1, 0.0105], 'answered after the streamed call was recorded');
    assert.equal((await streaming).status, 200);
  });

  it('the meter says priced:false once a call was on a model without a price', async () => {
    await call(gw.socketPath, 'POST', '/anthropic/v1/messages', JSON.stringify({ model: 'mystery-model', messages: [] }));
    const m = JSON.parse((await call(gw.socketPath, 'GET', METER_PATH)).body) as { priced: boolean; costUsd: number };
    assert.equal(m.priced, false);
    assert.ok(m.costUsd > 0, 'still charged (at the ceiling)');
  });

  it('SEC the meter path is never forwarded upstream: other methods, a body, a query, prefixed or nested forms are refused', async () => {
    const refused: Array<[string, string, string | undefined]> = [
      ['POST', METER_PATH, '{}'],
      ['PUT', METER_PATH, '{}'],
      ['GET', `${METER_PATH}?x=1`, undefined],
      ['GET', `${METER_PATH}/`, undefined],
      ['GET', `${METER_PATH}/../anthropic/v1/models`, undefined],
      ['GET', `/anthropic${METER_PATH}`, undefined],
      ['GET', `/openai${METER_PATH}`, undefined],
      ['GET', METER_PATH, 'a body'],
    ];
    for (const [method, path, body] of refused) {
      // Node's client sends a GET body without a length unless told: say it, as a real client would.
      const r = await call(gw.socketPath, method, path, body, body ? { 'content-length': String(Buffer.byteLength(body)) } : {});
      assert.equal(r.status, 403, `${method} ${path} ${body ?? ''}: ${r.status} ${r.body}`);
      assert.ok(!/costUsd/.test(r.body), `${method} ${path} must not answer the meter`);
    }
    assert.equal(provider.requests.length, 0, 'nothing reached the upstream');
    for (const p of ['anthropic', 'openai', 'gemini']) assert.equal(matchRoute('GET', `/${p}${METER_PATH}`), undefined);
    assert.equal(matchRoute('GET', METER_PATH), undefined, 'the allow-list has no route for it');
  });
});
