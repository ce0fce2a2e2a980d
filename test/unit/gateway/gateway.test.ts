import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { PriceTable } from '../../../src/core/config/prices';
import { ModelGateway, makeSocketDir, type GatewaySummary } from '../../../src/core/gateway/gateway';
import { REDACTED } from '../../../src/core/gateway/redact';
import { ScriptedProvider, type Script } from '../../support/scripted-provider';

const REAL_KEY = 'sk-real-host-key-0123456789abcdef';
const PLACEHOLDER = 'sk-placeholder-in-container';
const prices = PriceTable.withOverrides({ 'test-model': { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3, cacheWritePerMTok: 3.75 } });

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** ms from sending to the first body byte, and to the end. */
  firstByteMs: number;
  totalMs: number;
}

/** A request to the gateway over its Unix socket, as the in-container shim would forward it. */
function call(socketPath: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = -1;
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ socketPath, method, path, headers: { 'content-type': 'application/json', 'x-api-key': PLACEHOLDER, authorization: `Bearer ${PLACEHOLDER}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        if (first < 0) first = performance.now() - t0;
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), firstByteMs: first, totalMs: performance.now() - t0 }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

describe('gateway: metered, key-injecting, budget-capped model egress', () => {
  let provider: ScriptedProvider;
  let gw: ModelGateway;
  let dir: string;
  let script: Script;
  let tripped: GatewaySummary[];

  async function startGateway(budgetUsd = 10): Promise<void> {
    const s = await makeSocketDir();
    dir = s.dir;
    tripped = [];
    gw = await ModelGateway.start({
      socketPath: s.socketPath, keys: { anthropic: REAL_KEY, openai: REAL_KEY, gemini: REAL_KEY },
      upstreams: { anthropic: provider.url, openai: provider.url, gemini: provider.url }, prices, budgetUsd,
      onBudgetExceeded: (sum) => tripped.push(sum),
    });
  }

  beforeEach(async () => {
    script = () => ({ text: 'ok', usage: { input: 1000, output: 500 } });
    provider = await ScriptedProvider.start({ script: (r, i) => script(r, i), expectedKey: REAL_KEY });
    await startGateway();
  });
  afterEach(async () => {
    await gw.close();
    await provider.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('meters JSON and SSE answers of every API: totals equal the served usage exactly', async () => {
    let n = 0;
    script = () => {
      n++;
      return { text: `answer ${n}`, usage: { input: 1000 + n, output: 100 + n, cacheRead: 7 * n, cacheWrite: n % 2 ? 11 : 0 } };
    };
    const m = { model: 'test-model', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] };
    const calls: Array<[string, unknown]> = [
      ['/anthropic/v1/messages?beta=true', m],
      ['/anthropic/v1/messages', { ...m, stream: true }],
      ['/openai/v1/chat/completions', m],
      ['/openai/v1/chat/completions', { ...m, stream: true }],
      ['/openai/v1/responses', { model: 'test-model', input: 'hi' }],
      ['/openai/v1/responses', { model: 'test-model', input: 'hi', stream: true }],
      ['/gemini/v1beta/models/test-model:generateContent', { contents: [] }],
      ['/gemini/v1beta/models/test-model:streamGenerateContent?alt=sse', { contents: [] }],
    ];
    for (const [path, body] of calls) {
      const r = await call(gw.socketPath, 'POST', path, body);
      assert.equal(r.status, 200, `${path}: ${r.body}`);
    }
    const s = gw.summary();
    const served = provider.served;
    assert.equal(s.requests, calls.length);
    // Anthropic bills cache writes; the OpenAI/Gemini shapes have none, so count what was served as such.
    const anthropicWrites = 11 + 0; // calls 1 and 2
    assert.equal(s.outputTokens, served.output);
    assert.equal(s.cachedInputTokens, served.cacheRead);
    assert.equal(s.cacheWriteTokens, anthropicWrites);
    assert.equal(s.inputTokens, served.input + served.cacheRead + anthropicWrites);
    const expected = gw.records().reduce((sum, r) => sum + PriceTable.cost(r.usage, prices.lookup('test-model')!), 0);
    assert.ok(Math.abs(s.costUsd - expected) < 1e-12);
    const direct = (served.input + anthropicWrites * 1.25) * 3e-6 + served.cacheRead * 0.3e-6 + served.output * 15e-6;
    assert.ok(Math.abs(s.costUsd - direct) < 1e-12, `${s.costUsd} vs ${direct}`);
    assert.deepEqual(gw.records().map((r) => r.stream), [false, true, false, true, false, true, false, true]);
    assert.ok(gw.records().every((r) => r.model === 'test-model' && r.priced && r.status === 200));
  });

  it('asks a streamed Chat Completion for its usage chunk (otherwise the stream has no token counts)', async () => {
    await call(gw.socketPath, 'POST', '/openai/v1/chat/completions', { model: 'test-model', messages: [], stream: true });
    assert.deepEqual(provider.requests[0].body.stream_options, { include_usage: true });
    assert.equal(gw.summary().outputTokens, 500);
  });

  it('SEC-24 the container\'s placeholder key is replaced by the host key; the upstream never sees the placeholder', async () => {
    await call(gw.socketPath, 'POST', '/anthropic/v1/messages', { model: 'test-model', messages: [] });
    await call(gw.socketPath, 'POST', '/openai/v1/responses', { model: 'test-model', input: 'x' });
    await call(gw.socketPath, 'POST', '/gemini/v1beta/models/test-model:generateContent?key=' + PLACEHOLDER, { contents: [] }, { 'x-goog-api-key': PLACEHOLDER });
    assert.deepEqual(provider.requests.map((r) => r.key), [REAL_KEY, REAL_KEY, REAL_KEY]);
    for (const r of provider.requests) {
      assert.ok(!JSON.stringify(r.headers).includes(PLACEHOLDER));
      assert.ok(!r.path.includes(PLACEHOLDER), r.path);
    }
  });

  it('SEC-25 a key echoed by the upstream is redacted before it reaches the container, even split across chunks', async () => {
    await gw.close();
    await provider.close();
    // An upstream that echoes the key in an SSE stream, one byte per write.
    const echo = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const text = `data: {"type":"error","error":{"message":"bad key ${REAL_KEY}"}}\n\n`;
      let i = 0;
      const tick = () => (i < text.length ? (res.write(text[i++]), setImmediate(tick)) : res.end());
      tick();
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    provider = await ScriptedProvider.start({ script });
    const s = await makeSocketDir();
    gw = await ModelGateway.start({ socketPath: s.socketPath, keys: { anthropic: REAL_KEY }, upstreams: { anthropic: `http://127.0.0.1:${(echo.address() as net.AddressInfo).port}` }, prices, budgetUsd: 1 });
    try {
      const r = await call(gw.socketPath, 'POST', '/anthropic/v1/messages', { model: 'test-model', messages: [], stream: true });
      assert.ok(!r.body.includes(REAL_KEY), r.body);
      assert.ok(r.body.includes(`bad key ${REDACTED}`), r.body);
    } finally {
      echo.closeAllConnections();
      echo.close();
      fs.rmSync(s.dir, { recursive: true, force: true });
    }
  });

  it('budget: with room for k calls, call k+1 is refused with a clear error and the owner is told once', async () => {
    await gw.close();
    // Each call: 1000 in + 500 out at $3/$15 per MTok = $0.0105. Budget 0.03 → 3 calls fit (0.0315 ≥ 0.03 after the 3rd).
    await startGateway(0.03);
    const m = { model: 'test-model', messages: [] };
    for (let i = 0; i < 3; i++) assert.equal((await call(gw.socketPath, 'POST', '/anthropic/v1/messages', m)).status, 200);
    const refused = await call(gw.socketPath, 'POST', '/anthropic/v1/messages', m);
    assert.equal(refused.status, 402);
    assert.match(JSON.parse(refused.body).error.message, /budget of \$0\.03 is spent/);
    assert.equal((await call(gw.socketPath, 'POST', '/anthropic/v1/messages', m)).status, 402);
    assert.equal(provider.requests.length, 3, 'refused calls never reach the upstream');
    assert.equal(tripped.length, 1);
    const s = gw.summary();
    assert.equal(s.refused, 2);
    assert.ok(s.budgetExceeded);
    assert.ok(s.costUsd <= 0.03 + 0.0105 + 1e-12, `cost ${s.costUsd} within budget + one call`);
  });

  it('budget with parallel calls (sub-agents): near the cap calls go one at a time, so spend overshoots by at most one call', async () => {
    await gw.close();
    await provider.close();
    provider = await ScriptedProvider.start({ script: () => ({ text: 'ok', usage: { input: 1000, output: 500 } }), expectedKey: REAL_KEY, eventDelayMs: 20 });
    await startGateway(0.03);
    const m = { model: 'test-model', messages: [], stream: true };
    // One call tells the gateway what a call costs (0.0105); then 6 at once.
    await call(gw.socketPath, 'POST', '/anthropic/v1/messages', m);
    // The client can see the end of the stream just before the gateway has recorded it.
    while (gw.summary().requests < 1) await new Promise((r) => setTimeout(r, 5));
    const replies = await Promise.all(Array.from({ length: 6 }, () => call(gw.socketPath, 'POST', '/anthropic/v1/messages', m)));
    const ok = replies.filter((r) => r.status === 200).length;
    assert.equal(provider.served.requests, 1 + ok);
    assert.equal(provider.served.requests, 3, `exactly the calls that fit, plus none in parallel past the cap: ${JSON.stringify(replies.map((r) => r.status))}`);
    assert.equal(replies.filter((r) => r.status === 402).length, 4);
    assert.ok(gw.summary().costUsd <= 0.03 + 0.0105 + 1e-12);
  });

  it('SEC-02 only allow-listed model API calls pass: forward-proxy URLs, CONNECT, other paths and methods are refused', async () => {
    const refusedPaths = ['http://example.com/', '/anthropic/v1/files', '/openai/v1/../../admin', '/openai/v1%2fresponses', '/other/v1/messages', '//evil/v1/messages'];
    for (const p of refusedPaths) {
      const r = await call(gw.socketPath, 'POST', p, {});
      assert.equal(r.status, 403, p);
    }
    assert.equal((await call(gw.socketPath, 'DELETE', '/anthropic/v1/messages')).status, 403);
    // CONNECT tunnel attempt over the raw socket.
    const reply = await new Promise<string>((resolve) => {
      const s = net.connect(gw.socketPath, () => s.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'));
      let out = '';
      s.on('data', (d) => (out += d.toString()));
      s.on('close', () => resolve(out));
    });
    assert.match(reply, /^HTTP\/1\.1 405/);
    assert.equal(provider.requests.length, 0);
    assert.ok(gw.records().every((r) => r.refused === 'not_allowed'));
  });

  it('streams SSE through without buffering: the first event arrives long before the last', async () => {
    await gw.close();
    await provider.close();
    provider = await ScriptedProvider.start({ script: () => ({ text: 'slow', toolCall: { name: 'Write', input: { file_path: 'a', content: 'b' } }, usage: { input: 10, output: 5 } }), eventDelayMs: 80 });
    await startGateway();
    const r = await call(gw.socketPath, 'POST', '/anthropic/v1/messages', { model: 'test-model', messages: [], stream: true });
    assert.equal(r.status, 200);
    // 9 events × 80 ms ≈ 720 ms in total; a buffering proxy would deliver the first byte at the end.
    assert.ok(r.firstByteMs < r.totalMs / 3, `first byte ${r.firstByteMs.toFixed(0)} ms of ${r.totalMs.toFixed(0)} ms`);
    assert.equal(gw.summary().outputTokens, 5);
  });

  it('an unknown model is still charged (at the table ceiling) so the budget holds, and marked unpriced', async () => {
    await call(gw.socketPath, 'POST', '/anthropic/v1/messages', { model: 'mystery-model-9', messages: [] });
    const [rec] = gw.records();
    assert.equal(rec.priced, false);
    assert.equal(rec.costUsd, PriceTable.cost(rec.usage, prices.ceiling()));
    assert.ok(rec.costUsd > 0);
  });

  it('writes its records as JSON lines for evidence, without keys or bodies', async () => {
    await call(gw.socketPath, 'POST', '/anthropic/v1/messages', { model: 'test-model', messages: [{ role: 'user', content: 'secret prompt' }] });
    const file = `${dir}/gateway.jsonl`;
    await gw.writeRecords(file);
    const text = fs.readFileSync(file, 'utf8');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 1);
    assert.deepEqual(Object.keys(lines[0]).sort(), ['costUsd', 'durationMs', 'method', 'model', 'path', 'priced', 'provider', 'status', 'stream', 'time', 'usage']);
    assert.ok(!text.includes(REAL_KEY) && !text.includes('secret prompt'));
  });

  it('SEC-24 the socket belongs to the container user alone (0600), so no other local user can spend the key', async function () {
    if (process.getuid?.() !== 0) this.skip();
    await gw.close();
    const s = await makeSocketDir();
    const owned = await ModelGateway.start({ socketPath: s.socketPath, keys: { anthropic: REAL_KEY }, upstreams: { anthropic: provider.url }, prices, budgetUsd: 1, socketOwner: { uid: 1000, gid: 1000 } });
    try {
      const st = fs.statSync(s.socketPath);
      assert.equal(st.mode & 0o777, 0o600);
      assert.equal(st.uid, 1000);
      assert.equal(fs.statSync(s.dir).mode & 0o777, 0o711, 'the folder can be traversed, not listed');
      // Another unprivileged user is refused by the kernel.
      const { spawnSync } = await import('node:child_process');
      const other = spawnSync('setpriv', ['--reuid=1001', '--regid=1001', '--clear-groups', process.execPath, '-e', `require('net').connect(${JSON.stringify(s.socketPath)}).on('error',e=>{console.log(e.code);process.exit(0)}).on('connect',()=>{console.log('connected');process.exit(0)})`], { encoding: 'utf8' });
      assert.equal(other.stdout.trim(), 'EACCES', other.stderr);
    } finally {
      await owned.close();
      fs.rmSync(s.dir, { recursive: true, force: true });
    }
  });

  it('refuses a provider that has no key on the host with 401, without calling it', async () => {
    await gw.close();
    const s = await makeSocketDir();
    gw = await ModelGateway.start({ socketPath: s.socketPath, keys: {}, upstreams: { openai: provider.url }, prices, budgetUsd: 1 });
    const r = await call(gw.socketPath, 'POST', '/openai/v1/responses', { model: 'test-model', input: 'x' });
    assert.equal(r.status, 401);
    assert.match(r.body, /no API key is configured for openai/);
    assert.equal(provider.requests.length, 0);
    fs.rmSync(s.dir, { recursive: true, force: true });
  });
});
