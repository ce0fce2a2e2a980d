/**
 * Gateway overhead per proxied request vs. a direct loopback request to the same (scripted)
 * provider, measured in the same run: JSON and SSE, through the gateway's Unix socket alone and
 * through the in-container path (TCP shim → Unix socket → gateway). Goal: < 2 ms added at p50.
 * Also time-to-first-byte of a slow SSE stream, to show the gateway does not buffer streams.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import { PriceTable } from '../src/core/config/prices';
import { ModelGateway, makeSocketDir } from '../src/core/gateway/gateway';
import { startShim } from '../src/worker/shim';
import { ScriptedProvider } from '../test/support/scripted-provider';
import { fmt, line, summarize, time } from './stats';

const KEY = 'sk-bench-key-0123456789';
const BODY = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'x'.repeat(2000) }] });
const STREAM_BODY = JSON.stringify({ ...JSON.parse(BODY), stream: true });

type Target = { socketPath: string } | { host: string; port: number };

function post(target: Target, agent: http.Agent, path: string, body: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    let first = -1;
    const req = http.request({ ...target, agent, method: 'POST', path, headers: { 'content-type': 'application/json', 'x-api-key': 'placeholder' } }, (res) => {
      res.on('data', () => {
        if (first < 0) first = performance.now() - t0;
      });
      res.on('end', () => resolve(first));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function run(): Promise<void> {
  const provider = await ScriptedProvider.start({ script: () => ({ text: 'ok', usage: { input: 1000, output: 500 } }), expectedKey: KEY });
  const port = Number(new URL(provider.url).port);
  const sock = await makeSocketDir();
  const gw = await ModelGateway.start({ socketPath: sock.socketPath, keys: { anthropic: KEY }, upstreams: { anthropic: provider.url }, prices: PriceTable.withOverrides(), budgetUsd: 1e9 });
  const shim = await startShim(sock.socketPath);
  const agents = { direct: new http.Agent({ keepAlive: true }), gw: new http.Agent({ keepAlive: true }), shim: new http.Agent({ keepAlive: true }) };
  const direct: Target = { host: '127.0.0.1', port };
  const viaGw: Target = { socketPath: sock.socketPath };
  const viaShim: Target = { host: '127.0.0.1', port: shim.port };
  const runs = 400;
  try {
    for (const [label, body] of [['JSON', BODY], ['SSE', STREAM_BODY]] as const) {
      const base = await time(() => post(direct, agents.direct, '/v1/messages', body), runs, 50);
      const g = await time(() => post(viaGw, agents.gw, '/anthropic/v1/messages', body), runs, 50);
      const s = await time(() => post(viaShim, agents.shim, '/anthropic/v1/messages', body), runs, 50);
      line(`${label}: direct loopback (baseline)`, base);
      line(`${label}: via gateway (Unix socket)`, g, base, '< 2 ms added at p50');
      line(`${label}: via shim → gateway (in-container path)`, s, base, '< 2 ms added at p50');
      console.log(`${label}: added at p50: gateway ${fmt(g.median - base.median)}, shim+gateway ${fmt(s.median - base.median)}`);
    }
    // Streaming pass-through: a provider that takes 10 events × 50 ms. A buffering proxy would
    // deliver the first byte after ≈ 500 ms; pass-through delivers it as soon as the provider does.
    const slow = await ScriptedProvider.start({ script: () => ({ text: 'slow', toolCall: { name: 'Write', input: { a: 1 } }, usage: { input: 10, output: 5 } }), eventDelayMs: 50 });
    const sock2 = await makeSocketDir();
    const gw2 = await ModelGateway.start({ socketPath: sock2.socketPath, keys: { anthropic: KEY }, upstreams: { anthropic: slow.url }, prices: PriceTable.withOverrides(), budgetUsd: 1e9 });
    const ttfbDirect: number[] = [];
    const ttfbGw: number[] = [];
    for (let i = 0; i < 8; i++) {
      ttfbDirect.push(await post({ host: '127.0.0.1', port: Number(new URL(slow.url).port) }, agents.direct, '/v1/messages', STREAM_BODY));
      ttfbGw.push(await post({ socketPath: sock2.socketPath }, agents.gw, '/anthropic/v1/messages', STREAM_BODY));
    }
    line('SSE first byte, slow stream: direct (baseline)', summarize(ttfbDirect));
    line('SSE first byte, slow stream: via gateway', summarize(ttfbGw), summarize(ttfbDirect), 'first byte ≪ 450 ms (whole stream)');
    await gw2.close();
    await slow.close();
    fs.rmSync(sock2.dir, { recursive: true, force: true });
  } finally {
    for (const a of Object.values(agents)) a.destroy();
    await shim.close();
    await gw.close();
    await provider.close();
    fs.rmSync(sock.dir, { recursive: true, force: true });
  }
}
