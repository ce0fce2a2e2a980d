import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireDocker } from '../../support/engines';
import { ScriptedProvider } from '../../support/scripted-provider';
import { buildCli, CLI } from '../../unit/cli/cli-process';
import { ensureAgentsImage, makePlan, makeRepo } from './helpers';

const REAL_KEY = 'sk-ant-cli-REAL-0f4e2d9a7c61b835';

/** `node dist/cli.js …` asynchronously (the scripted provider lives in this process). */
function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('docker: factory sandbox --agent / --upstream / --budget-usd (the CLI as a process)', function () {
  let repo: string;
  let dir: string;
  let provider: ScriptedProvider;
  const env = () => ({ ...process.env, ANTHROPIC_API_KEY: REAL_KEY, OPENAI_API_KEY: '', GEMINI_API_KEY: '' });

  before(function () {
    this.timeout(20 * 60_000);
    requireDocker(this);
    ensureAgentsImage();
    buildCli();
  });
  beforeEach(async () => {
    repo = makeRepo();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-gwcli-'));
    fs.writeFileSync(path.join(dir, 'plan.json'), JSON.stringify(makePlan('replay')));
    provider = await ScriptedProvider.start({ script: () => ({ text: 'ok', usage: { input: 1000, output: 500 } }), expectedKey: REAL_KEY });
  });
  afterEach(async () => {
    await provider.close();
    for (const d of [repo, dir]) fs.rmSync(d, { recursive: true, force: true });
  });

  function replay(calls: number): string {
    const steps = [
      ...Array.from({ length: calls }, () => ({ op: 'call', provider: 'anthropic', path: '/v1/messages', body: { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [] } })),
      { op: 'write', path: 'src/app.py', content: 'VALUE = 2\n' },
    ];
    const f = path.join(dir, 'replay.json');
    fs.writeFileSync(f, JSON.stringify({ steps }));
    return f;
  }

  it('--json gains gateway {requests, inputTokens, outputTokens, costUsd, refused} equal to what the provider served; SEC-24 the key is not in the CLI output', async () => {
    const r = await cli(['sandbox', '--root', repo, '--plan', path.join(dir, 'plan.json'), '--agent', 'replay', '--replay', replay(2), '--upstream', `anthropic=${provider.url}`, '--budget-usd', '0.5', '--json', '-v'], env());
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = JSON.parse(r.stdout) as { status: string; outcome: string; gateway: Record<string, number>; changeset: unknown[]; result: { gate_results: Record<string, string> } };
    assert.equal(out.status, 'PASS');
    assert.deepEqual(out.result.gate_results, { doctor: 'PASS' }, 'the configured gate stages ran inside the Worker');
    assert.equal(out.outcome, 'success');
    assert.deepEqual(out.gateway, { requests: 2, inputTokens: 2000, outputTokens: 1000, costUsd: out.gateway.costUsd, refused: 0 });
    assert.ok(Math.abs(out.gateway.costUsd - 0.021) < 1e-12);
    assert.deepEqual(out.changeset, [{ path: 'src/app.py', kind: 'modified' }]);
    assert.ok(!(r.stdout + r.stderr).includes(REAL_KEY), 'SEC-24 the key is not in the CLI output or its log');
  });

  it('--budget-usd caps spend: call 2 refused, exit 1, refused counted', async () => {
    const r = await cli(['sandbox', '--root', repo, '--plan', path.join(dir, 'plan.json'), '--agent', 'replay', '--replay', replay(3), '--upstream', `anthropic=${provider.url}`, '--budget-usd', '0.01', '--json'], env());
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout) as { status: string; outcome: string; gateway: Record<string, number> };
    assert.equal(out.outcome, 'budget_exceeded');
    assert.equal(out.gateway.requests, 2);
    assert.equal(out.gateway.refused, 1);
    assert.equal(provider.served.requests, 1);
  });

  it('bad --upstream / --agent usage exits 2 with one clear line', async () => {
    const base = ['sandbox', '--root', repo, '--plan', path.join(dir, 'plan.json')];
    const bad = await cli([...base, '--agent', 'replay', '--replay', replay(1), '--upstream', 'evil=http://127.0.0.1:1'], env());
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--upstream "evil=http:\/\/127\.0\.0\.1:1": provider must be one of anthropic, openai, gemini/);
    const both = await cli([...base, '--agent', 'replay', '--', 'true'], env());
    assert.equal(both.code, 2);
    assert.match(both.stderr, /either --agent or a Worker command/);
    const noImage = await cli([...base, '--agent', 'replay', '--replay', replay(1), '--image', 'agentic-factory/not-built:none'], env());
    assert.equal(noImage.code, 2);
    assert.match(noImage.stderr, /image agentic-factory\/not-built:none is not on this engine: build it with scripts\/build-agents-image\.sh/);
    const unknown = await cli([...base, '--agent', 'nope'], env());
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown agent 'nope'/);
  });
});
