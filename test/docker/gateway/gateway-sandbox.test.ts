import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PriceTable } from '../../../src/core/config/prices';
import { runAgentSandbox, type AgentSandboxOptions, type AgentSandboxReport } from '../../../src/core/agents/run-agent';
import type { ReplayFile } from '../../../src/core/agents/replay';
import { requireDocker } from '../../support/engines';
import { ScriptedProvider, type Script } from '../../support/scripted-provider';
import { buildRuntime, ensureAgentsImage, makePlan, makeRepo } from './helpers';

const REAL_KEY = 'sk-ant-REAL-host-only-7f3a9c2e1b8d4f60';
const prices = PriceTable.withOverrides({ 'test-model': { inputPerMTok: 3, outputPerMTok: 15 } });

/** Everything a process in the container could read that might hold the key, plus `docker inspect`. */
async function probeForKey(id: string): Promise<string> {
  // While the agent runs (it sleeps after its call).
  await new Promise((res) => setTimeout(res, 1500));
  // The root file system is read-only: only the mounts and tmpfs folders could hold a written key.
  const writable = '/workspace /factory /home /tmp /run /var/tmp /dev/shm';
  let inside: string;
  try {
    // The key goes to grep on stdin, never on a command line (the probe's own cmdline is scanned too).
    inside = execFileSync('docker', ['exec', '-i', id, 'sh', '-c', `env; for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do tr "\\0" "\\n" < $f; done 2>/dev/null; grep -rIlF -f - ${writable} 2>/dev/null; echo done`], { encoding: 'utf8', timeout: 20_000, input: `${REAL_KEY}\n` });
  } catch (err) {
    inside = `probe failed: ${String(err)}`;
  }
  return inside + '\n' + execFileSync('docker', ['inspect', id], { encoding: 'utf8' });
}

/**
 * The gateway end to end with the real sandbox: the Worker runtime (dist/worker.js) runs in a
 * hardened container, reaches the host gateway only through the in-container shim, and the
 * scripted provider plays the model behind it.
 */
describe('docker: model gateway + Worker runtime in the real sandbox', function () {
  let image: string;
  let repo: string;
  let provider: ScriptedProvider;
  let script: Script;
  const tmp: string[] = [];

  before(async function () {
    this.timeout(20 * 60_000);
    requireDocker(this);
    image = ensureAgentsImage();
    await buildRuntime();
  });
  beforeEach(async () => {
    repo = makeRepo();
    script = () => ({ text: 'ok', usage: { input: 1000, output: 500 } });
    provider = await ScriptedProvider.start({ script: (r, i) => script(r, i), expectedKey: REAL_KEY });
  });
  afterEach(async () => {
    await provider.close();
    fs.rmSync(repo, { recursive: true, force: true });
    for (const t of tmp.splice(0)) fs.rmSync(t, { recursive: true, force: true });
  });

  function replayFile(r: ReplayFile): string {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-replay-'));
    tmp.push(d);
    fs.writeFileSync(path.join(d, 'replay.json'), JSON.stringify(r));
    return path.join(d, 'replay.json');
  }

  function run(over: Partial<AgentSandboxOptions>, onStart?: (id: string) => Promise<void>): Promise<AgentSandboxReport> {
    return runAgentSandbox(
      {
        root: repo, plan: makePlan(over.agent ?? 'replay'), agent: 'replay', budgetUsd: 1, keys: { anthropic: REAL_KEY, openai: REAL_KEY, gemini: REAL_KEY },
        upstreams: { anthropic: provider.url, openai: provider.url, gemini: provider.url }, prices, image,
        ...over,
      },
      onStart ? { onStart } : {},
    );
  }

  const msg = (stream = false) => ({ model: 'test-model', max_tokens: 100, stream, messages: [{ role: 'user', content: 'hi' }] });

  it('an agent making N calls (JSON and streaming, three APIs): gateway totals equal the served usage exactly', async () => {
    let n = 0;
    script = () => {
      n++;
      return { text: `t${n}`, usage: { input: 1000 * n, output: 100 * n + 7 } };
    };
    const r = await run({
      replayFile: replayFile({
        steps: [
          { op: 'call', provider: 'anthropic', path: '/v1/messages', body: msg() },
          { op: 'call', provider: 'anthropic', path: '/v1/messages', body: msg(true) },
          { op: 'call', provider: 'openai', path: '/v1/chat/completions', body: msg(true) },
          { op: 'call', provider: 'openai', path: '/v1/responses', body: { model: 'test-model', input: 'hi', stream: true } },
          { op: 'call', provider: 'gemini', path: '/v1beta/models/test-model:streamGenerateContent?alt=sse', body: { contents: [] } },
          { op: 'write', path: 'src/app.py', content: 'VALUE = 2\n' },
        ],
        finalText: 'edited',
      }),
    });
    assert.equal(r.sandbox.status, 'PASS', r.sandbox.reasons.join('; '));
    assert.equal(r.outcome, 'success');
    assert.deepEqual(r.sandbox.changeset, [{ path: 'src/app.py', kind: 'modified' }]);
    assert.equal(provider.served.requests, 5);
    assert.equal(r.gateway.requests, 5);
    assert.equal(r.gateway.inputTokens, provider.served.input);
    assert.equal(r.gateway.outputTokens, provider.served.output);
    const expectedCost = provider.served.input * 3e-6 + provider.served.output * 15e-6;
    assert.ok(Math.abs(r.gateway.costUsd - expectedCost) < 1e-12, `${r.gateway.costUsd} vs ${expectedCost}`);
    assert.equal(r.costSource, 'gateway');
    // Every request reached the provider with the real key, swapped in on the host.
    assert.ok(provider.requests.every((q) => q.key === REAL_KEY));
    // The agent's own view of its usage (read from the replies it got) agrees too.
    assert.equal(r.agent?.usage.outputTokens, provider.served.output);
  });

  it('budget: with room for k calls, call k+1 is refused, the container is stopped, outcome budget_exceeded, cost ≤ budget + one call', async () => {
    // A hostile agent that ignores refusals and keeps calling (5 ms apart) until it is stopped.
    const loop = `const http=require('http');let i=0;(function go(){const q=http.request(process.env.FACTORY_GATEWAY_URL+'/anthropic/v1/messages',{method:'POST',headers:{'content-type':'application/json'}},(s)=>{console.log(JSON.stringify({i:i++,status:s.statusCode}));s.resume();s.on('end',()=>setTimeout(go,5));});q.on('error',()=>setTimeout(go,5));q.end(JSON.stringify({model:'test-model',messages:[]}));})();`;
    const perCall = 1000 * 3e-6 + 500 * 15e-6; // 0.0105
    const budget = 0.03; // 3 calls fit; the 4th is refused
    const t0 = Date.now();
    const r = await run({ agent: 'custom', agentCommand: ['node', '-e', loop], budgetUsd: budget });
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(provider.served.requests, 3, 'exactly k calls reached the provider');
    assert.equal(r.outcome, 'budget_exceeded');
    assert.equal(r.sandbox.status, 'FAIL');
    assert.match(r.sandbox.reasons.join('\n'), /model budget of \$0\.03 was spent/);
    assert.equal(r.sandbox.container?.status, 'killed', 'the container was stopped, not left to run');
    assert.ok(seconds < 60, `stopped promptly (${seconds.toFixed(1)} s; the time cap is 4 min)`);
    assert.ok(r.gateway.refused >= 1);
    assert.ok(r.gateway.budgetExceeded);
    assert.ok(r.costUsd <= budget + perCall + 1e-12, `cost ${r.costUsd}`);
    assert.ok(Math.abs(r.costUsd - 3 * perCall) < 1e-12);
  });

  it('SEC-24 the key is nowhere inside the container (env, /proc/*/environ and cmdline, writable files) nor in docker inspect; the agent holds only a placeholder', async () => {
    let seen = '';
    const r = await run(
      {
        replayFile: replayFile({ steps: [{ op: 'call', provider: 'anthropic', path: '/v1/messages', body: msg() }, { op: 'sleep', ms: 8000 }, { op: 'write', path: 'hello.txt', content: 'x' }] }),
      },
      async (id) => {
        seen = await probeForKey(id);
      },
    );
    assert.equal(r.sandbox.status, 'PASS', r.sandbox.reasons.join('; '));
    assert.match(seen, /^done$/m, `the probe ran inside the container: ${seen.slice(0, 300)}`);
    assert.match(seen, /ANTHROPIC_API_KEY=factory-gateway-placeholder-key|FACTORY_GATEWAY_URL/, 'the probe saw the agent environment');
    assert.ok(!seen.includes(REAL_KEY), 'the real key leaked into the container or docker inspect');
    assert.equal(provider.requests[0]?.key, REAL_KEY, 'and yet the upstream got the real key');
  });

  it('the SEC-24 probe does find a key planted in the workspace (control)', async () => {
    let seen = '';
    await run({ replayFile: replayFile({ steps: [{ op: 'write', path: 'planted.txt', content: `key=${REAL_KEY}` }, { op: 'sleep', ms: 8000 }] }) }, async (id) => {
      seen = await probeForKey(id);
    });
    assert.match(seen, /^\/workspace\/planted\.txt$/m);
  });

  it('SEC-02 inside the container: the shim reaches only allow-listed model calls; forward-proxying to another host is refused; direct network access fails', async () => {
    const probe = `
      const http=require('http'),net=require('net'),dns=require('dns');const out={};const base=new URL(process.env.FACTORY_GATEWAY_URL);
      const req=(o)=>new Promise(r=>{const q=http.request({host:base.hostname,port:base.port,...o},s=>{s.resume();s.on('end',()=>r(s.statusCode));});q.on('error',e=>r(e.code));q.end('{}');});
      const tcp=(host,port)=>new Promise(r=>{const s=net.connect({host,port,timeout:3000});s.on('connect',()=>{s.destroy();r('connected')});s.on('error',e=>r(e.code));s.on('timeout',()=>{s.destroy();r('timeout')});});
      (async()=>{
        out.proxy=await req({method:'GET',path:'http://example.com/'});
        out.otherPath=await req({method:'POST',path:'/anthropic/v1/files'});
        out.unknownProvider=await req({method:'POST',path:'/evil/v1/messages'});
        out.direct=await tcp('192.0.2.1',443);
        out.dns=await new Promise(r=>dns.lookup('example.com',e=>r(e?e.code:'resolved')));
        console.log(JSON.stringify({probe:out}));
      })();`;
    const r = await run({ agent: 'custom', agentCommand: ['node', '-e', probe] });
    const log = r.agent?.finalText ?? '';
    const found = /\{"probe":.*\}/.exec(log);
    assert.ok(found, `probe output missing: ${JSON.stringify(r.agent)}`);
    const p = (JSON.parse(found[0]) as { probe: Record<string, unknown> }).probe;
    assert.equal(p.proxy, 403);
    assert.equal(p.otherPath, 403);
    assert.equal(p.unknownProvider, 403);
    assert.notEqual(p.direct, 'connected');
    assert.notEqual(p.dns, 'resolved');
    assert.equal(provider.requests.length, 0, 'nothing reached the upstream');
    assert.equal(r.gateway.refused, 3);
  });

  it('the runtime runs on the base image\'s own Node and writes result.json, prompt and evidence', async () => {
    const ev = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-ev-'));
    tmp.push(ev);
    const r = await run({
      image: 'agentic-factory/worker-base:bookworm',
      evidenceDir: ev,
      task: { acceptanceCriteria: [{ id: 'AC-1', text: 'VALUE is 3' }], rules: 'Rule 1: no magic numbers.', rulesPath: 'docs/v2/SSOT_RULES.md', gate: { stages: [{ name: 'doctor', command: ['python3', '-c', 'import src.app as a; assert a.VALUE == 3'], timeoutSeconds: 60 }] } },
      replayFile: replayFile({ steps: [{ op: 'call', provider: 'anthropic', path: '/v1/messages', body: msg() }, { op: 'replace', path: 'src/app.py', find: 'VALUE = 1', replace: 'VALUE = 3' }] }),
    });
    assert.equal(r.sandbox.status, 'PASS', r.sandbox.reasons.join('; '));
    assert.deepEqual(r.sandbox.result?.gate_results, { doctor: 'PASS' });
    assert.deepEqual(r.sandbox.result?.files_changed, ['src/app.py']);
    assert.equal(r.sandbox.result?.model_used, 'replay');
    const prompt = fs.readFileSync(path.join(ev, 'prompt.md'), 'utf8');
    assert.match(prompt, /\*\*AC-1\*\*: VALUE is 3/);
    assert.match(prompt, /Rule 1: no magic numbers\./);
    assert.match(prompt, /`src\/\*\*`/);
    assert.match(fs.readFileSync(path.join(ev, 'worker-gate.log'), 'utf8'), /== doctor: PASS/);
    const lines = fs.readFileSync(path.join(ev, 'gateway.jsonl'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 1);
    assert.ok(!fs.readdirSync(ev).some((f) => fs.readFileSync(path.join(ev, f), 'utf8').includes(REAL_KEY)));
  });
});
