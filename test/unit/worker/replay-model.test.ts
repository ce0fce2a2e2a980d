import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { replayAdapter } from '../../../src/core/agents/replay';
import { PriceTable } from '../../../src/core/config/prices';
import { ModelGateway, makeSocketDir } from '../../../src/core/gateway/gateway';
import { METER_PATH as GATEWAY_METER_PATH } from '../../../src/core/gateway/routes';
import { MODEL_PLACEHOLDER, withModel } from '../../../src/worker/replay';
import { METER_PATH, readMeter, startShim, type Shim } from '../../../src/worker/shim';
import { ScriptedProvider } from '../../support/scripted-provider';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');
/** tsx by file URL: the player runs in a temp folder, where the bare name would not resolve. */
const TSX = pathToFileURL(require.resolve('tsx')).href;
const KEY = 'sk-host-key-replay-model-0123456789';

/** `worker.js replay FILE`, from the TypeScript source, in `cwd` with `env`. */
function replay(file: string, cwd: string, env: Record<string, string>): Promise<{ code: number; stdout: string }> {
  return run(process.execPath, ['--import', TSX, path.join(ROOT, 'src/worker/main.ts'), 'replay', file], { cwd, env: { PATH: process.env.PATH ?? '', ...env } })
    .then((r) => ({ code: 0, stdout: r.stdout }))
    .catch((e: { code?: number; stdout?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '' }));
}

describe('replay agent on the routed model', () => {
  it('the adapter hands the routed model to the player (FACTORY_REPLAY_MODEL), and nothing when none is routed', () => {
    const base = { workdir: '/w', promptFile: '/p', homeDir: '/h', gatewayUrl: 'http://127.0.0.1:1', outDir: '/o', replayFile: '/r.json', runtimeArgv: ['node', 'worker.js'] };
    assert.equal(replayAdapter.invocation({ ...base, model: 'gpt-5-mini' }).env.FACTORY_REPLAY_MODEL, 'gpt-5-mini');
    assert.ok(!('FACTORY_REPLAY_MODEL' in replayAdapter.invocation(base).env));
  });

  it('withModel fills {{model}} in body strings (nested too) and in the path; a literal model is played as recorded', () => {
    const step = { op: 'call' as const, provider: 'gemini', path: `/v1beta/models/${MODEL_PLACEHOLDER}:generateContent`, body: { model: MODEL_PLACEHOLDER, meta: [{ note: `on ${MODEL_PLACEHOLDER}` }], n: 3 } };
    const filled = withModel(step, 'gemini-2.5-flash');
    assert.equal(filled.path, '/v1beta/models/gemini-2.5-flash:generateContent');
    assert.deepEqual(filled.body, { model: 'gemini-2.5-flash', meta: [{ note: 'on gemini-2.5-flash' }], n: 3 });
    assert.equal(step.body.model, MODEL_PLACEHOLDER, 'the recording itself is not changed');
    const literal = { op: 'call' as const, provider: 'openai', path: '/v1/responses', body: { model: 'gpt-4o', input: 'x' } };
    assert.deepEqual(withModel(literal, 'gpt-5'), literal);
    assert.deepEqual(withModel(literal, undefined), literal);
    assert.throws(() => withModel(step, undefined), /names \{\{model\}\} but no model was routed/);
  });

  it('a model id with URL-special characters cannot change the path it is put in', () => {
    const step = { op: 'call' as const, provider: 'gemini', path: `/v1beta/models/${MODEL_PLACEHOLDER}:generateContent`, body: {} };
    assert.equal(withModel(step, '../x?y').path, '/v1beta/models/..%2Fx%3Fy:generateContent');
  });

  it('the runtime and the gateway agree on the meter path', () => {
    assert.equal(METER_PATH, GATEWAY_METER_PATH);
  });

  describe('through the real gateway and shim', function () {
    this.timeout(60_000);
    let provider: ScriptedProvider;
    let gw: ModelGateway;
    let shim: Shim;
    let dir: string;
    let sockDir: string;
    const prices = PriceTable.withOverrides();

    beforeEach(async () => {
      provider = await ScriptedProvider.start({ script: () => ({ text: 'ok', usage: { input: 2000, output: 400 } }), expectedKey: KEY });
      const s = await makeSocketDir();
      sockDir = s.dir;
      gw = await ModelGateway.start({ socketPath: s.socketPath, keys: { anthropic: KEY, openai: KEY, gemini: KEY }, upstreams: { anthropic: provider.url, openai: provider.url, gemini: provider.url }, prices, budgetUsd: 1 });
      shim = await startShim(s.socketPath);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-replay-model-'));
    });
    afterEach(async () => {
      await shim.close();
      await gw.close();
      await provider.close();
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(sockDir, { recursive: true, force: true });
    });

    it('a recording\'s {{model}} calls reach the provider on the routed model and are metered at its price', async () => {
      const file = path.join(dir, 'rec.json');
      fs.writeFileSync(file, JSON.stringify({
        steps: [
          { op: 'call', provider: 'anthropic', path: '/v1/messages', body: { model: MODEL_PLACEHOLDER, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] } },
          { op: 'call', provider: 'gemini', path: `/v1beta/models/${MODEL_PLACEHOLDER}:generateContent`, body: { contents: [] } },
          { op: 'call', provider: 'openai', path: '/v1/responses', body: { model: 'gpt-5', input: 'literal' } },
          { op: 'write', path: 'out.txt', content: 'done' },
        ],
      }));
      const r = await replay(file, dir, { FACTORY_GATEWAY_URL: shim.url, FACTORY_REPLAY_MODEL: 'claude-sonnet-4-5' });
      assert.equal(r.code, 0, r.stdout);
      assert.deepEqual(provider.requests.map((q) => q.body.model ?? q.path), ['claude-sonnet-4-5', '/v1beta/models/claude-sonnet-4-5:generateContent', 'gpt-5']);
      assert.ok(provider.requests.every((q) => q.key === KEY));
      const recs = gw.records();
      assert.deepEqual(recs.map((x) => x.model), ['claude-sonnet-4-5', 'claude-sonnet-4-5', 'gpt-5']);
      const expected = PriceTable.cost(recs[0].usage, prices.lookup('claude-sonnet-4-5')!);
      assert.ok(expected > 0 && Math.abs(recs[0].costUsd - expected) < 1e-12);
      const meter = await readMeter(shim.url);
      assert.deepEqual(meter, { requests: 3, costUsd: gw.summary().costUsd, budgetUsd: 1, priced: true });
      assert.equal(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8'), 'done');
    });

    it('a {{model}} recording without a routed model stops with a clear error and calls nothing', async () => {
      const file = path.join(dir, 'rec.json');
      fs.writeFileSync(file, JSON.stringify({ steps: [{ op: 'call', provider: 'openai', path: '/v1/responses', body: { model: MODEL_PLACEHOLDER, input: 'x' } }] }));
      const r = await replay(file, dir, { FACTORY_GATEWAY_URL: shim.url });
      assert.equal(r.code, 1);
      assert.match(r.stdout, /no model was routed/);
      assert.equal(provider.requests.length, 0);
    });

    it('readMeter gives undefined when nothing answers (the runtime then falls back to the agent\'s report)', async () => {
      assert.equal(await readMeter('http://127.0.0.1:9', 2_000), undefined);
    });
  });
});
