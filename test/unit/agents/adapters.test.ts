import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PriceTable } from '../../../src/core/config/prices';
import { ADAPTERS, getAdapter } from '../../../src/core/agents/registry';
import { PLACEHOLDER_KEY } from '../../../src/core/agents/placeholder';
import type { AgentExit, AgentResult, AgentRunSpec } from '../../../src/core/agents/types';
import { parseCount } from '../../../src/core/agents/aider';

const FIXTURES = path.resolve(__dirname, '../../fixtures/agents');
interface Case {
  agent: string;
  file: string;
  origin: string;
  model?: string;
  /** How the process ended; "recorded" = from the recorder's `<file>.exit.json` (exit code, stderr tail). */
  exit: AgentExit | 'recorded';
  expect: Partial<AgentResult> & { warnings?: string[] };
}
const { cases } = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'cases.json'), 'utf8')) as { cases: Case[] };
const prices = PriceTable.withOverrides();

function exitOf(c: Case): AgentExit {
  if (c.exit !== 'recorded') return c.exit;
  const rec = JSON.parse(fs.readFileSync(path.join(FIXTURES, `${c.file}.exit.json`), 'utf8')) as { code: number | null; stderrTail: string };
  return { code: rec.code, stderr: rec.stderrTail };
}

/** Feed `text` in chunks whose sizes come from a fixed pseudo-random sequence (lines split anywhere). */
function parse(c: Case, chunking: 'whole' | 'random' | 'bytewise'): AgentResult {
  const text = fs.readFileSync(path.join(FIXTURES, c.file), 'utf8');
  const parser = getAdapter(c.agent).parser(prices, c.model);
  if (chunking === 'whole') parser.push(text);
  else {
    let seed = 7;
    for (let i = 0; i < text.length; ) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const n = chunking === 'bytewise' ? 1 : 1 + (seed % 97);
      parser.push(text.slice(i, i + n));
      i += n;
    }
  }
  return parser.finish(exitOf(c));
}

describe('agent adapters: parsing every fixture shape', () => {
  for (const c of cases) {
    it(`${c.agent} ${path.basename(c.file)} (${c.origin}, exit ${JSON.stringify(c.exit)}) → ${c.expect.outcome}`, () => {
      const r = parse(c, 'whole');
      assert.equal(r.outcome, c.expect.outcome, `errors: ${r.errors.join(' | ')}`);
      assert.equal(r.agent, c.agent);
      if (c.expect.costSource) assert.equal(r.costSource, c.expect.costSource);
      if (c.expect.costUsd !== undefined) assert.ok(Math.abs((r.costUsd ?? NaN) - c.expect.costUsd) < 1e-9, `cost ${r.costUsd} ≠ ${c.expect.costUsd}`);
      if (c.expect.usage) assert.deepEqual(r.usage, c.expect.usage);
      if (c.expect.numTurns !== undefined) assert.equal(r.numTurns, c.expect.numTurns);
      if (c.expect.model) assert.equal(r.model, c.expect.model);
      if (c.expect.finalText) assert.equal(r.finalText, c.expect.finalText);
      for (const w of c.expect.warnings ?? []) assert.ok(r.warnings.includes(w), `warning '${w}' missing in ${JSON.stringify(r.warnings)}`);
      if (r.outcome !== 'success') assert.ok(r.errors.length > 0 || ['killed', 'timeout', 'max_turns', 'budget_exceeded'].includes(r.outcome), 'a failure says why');
    });
  }

  it('parses incrementally: any chunking (random, byte by byte) gives the same result as the whole output', () => {
    for (const c of cases) {
      const whole = parse(c, 'whole');
      assert.deepEqual(parse(c, 'random'), whole, `${c.file} random chunks`);
      assert.deepEqual(parse(c, 'bytewise'), whole, `${c.file} byte by byte`);
    }
  });

  it('covers every output shape named in AGENT-CLIS.md', () => {
    const outcomes = (agent: string) => new Set(cases.filter((c) => c.agent === agent).map((c) => c.expect.outcome));
    for (const o of ['success', 'max_turns', 'budget_exceeded', 'auth_error', 'rate_limited', 'agent_error', 'killed', 'timeout']) assert.ok(outcomes('claude-code').has(o as never), `claude-code ${o}`);
    for (const o of ['success', 'auth_error', 'rate_limited', 'agent_error']) assert.ok(outcomes('codex').has(o as never), `codex ${o}`);
    for (const o of ['success', 'auth_error', 'max_turns', 'killed']) assert.ok(outcomes('gemini').has(o as never), `gemini ${o}`);
    for (const o of ['success', 'auth_error']) assert.ok(outcomes('aider').has(o as never), `aider ${o}`);
  });

  it('aider token counts: k/M suffixes and thousands separators', () => {
    assert.equal(parseCount('12k'), 12000);
    assert.equal(parseCount('8.4k'), 8400);
    assert.equal(parseCount('1.2M'), 1200000);
    assert.equal(parseCount('1,234'), 1234);
    assert.equal(parseCount('512'), 512);
    assert.equal(parseCount('n/a'), 0);
  });
});

describe('agent adapters: invocations point the agent at the gateway with a placeholder key', () => {
  const spec: AgentRunSpec = {
    workdir: '/workspace', promptFile: '/factory/out/prompt.md', homeDir: '/home/worker', gatewayUrl: 'http://127.0.0.1:41000',
    model: 'm-1', maxTurns: 7, budgetUsd: 0.5, extraArgs: ['--extra'], command: ['my-agent', '--go'], replayFile: '/factory/in/replay.json',
    runtimeArgv: ['node', '/factory/runtime/worker.js'], outDir: '/factory/out',
  };

  it('SEC-24 no invocation carries anything but the placeholder key, and every base URL is the shim', () => {
    for (const a of Object.values(ADAPTERS)) {
      const inv = a.invocation(spec);
      for (const [k, v] of Object.entries(inv.env)) {
        if (/KEY/.test(k)) assert.equal(v, PLACEHOLDER_KEY, `${a.name} ${k}`);
        if (/BASE_URL|API_BASE/.test(k)) assert.ok(v.startsWith('http://127.0.0.1:41000/'), `${a.name} ${k}=${v}`);
      }
      if (a.name !== 'replay') assert.ok(inv.argv.includes('--extra'), `${a.name} keeps config args`);
    }
  });

  it('claude-code: headless stream-json with --verbose, turns, its own budget and bypassPermissions, prompt on stdin', () => {
    const inv = getAdapter('claude-code').invocation(spec);
    assert.deepEqual(inv.argv.slice(0, 7), ['claude', '-p', '--output-format', 'stream-json', '--verbose', '--model', 'm-1']);
    assert.ok(inv.argv.join(' ').includes('--max-turns 7 --max-budget-usd 0.5 --permission-mode bypassPermissions'));
    assert.equal(inv.stdinFile, spec.promptFile);
    assert.equal(inv.env.ANTHROPIC_BASE_URL, 'http://127.0.0.1:41000/anthropic');
  });

  it('codex: its model provider is the gateway (Responses over HTTP, no WebSockets), model named with -m', () => {
    const inv = getAdapter('codex').invocation(spec);
    const argv = inv.argv.join(' ');
    assert.match(argv, /model_providers\.factory=\{[^}]*base_url="http:\/\/127\.0\.0\.1:41000\/openai\/v1"[^}]*supports_websockets=false/);
    assert.match(argv, /-m m-1 --extra -$/);
    assert.equal(inv.env.CODEX_HOME, '/home/worker/.codex');
  });

  it('gemini: base URL + api-key auth pinned in its settings, yolo, JSON output', () => {
    const inv = getAdapter('gemini').invocation(spec);
    assert.equal(inv.env.GOOGLE_GEMINI_BASE_URL, 'http://127.0.0.1:41000/gemini');
    const settings = JSON.parse(inv.files![0].content) as { security: { auth: { selectedType: string } } };
    assert.equal(settings.security.auth.selectedType, 'gemini-api-key');
    assert.ok(inv.argv.join(' ').includes('-o json -m m-1 --approval-mode yolo'));
  });

  it('custom runs the configured command; replay runs the runtime\'s player; both refuse without their input', () => {
    assert.deepEqual(getAdapter('custom').invocation(spec).argv, ['my-agent', '--go', '--extra']);
    assert.deepEqual(getAdapter('replay').invocation(spec).argv, ['node', '/factory/runtime/worker.js', 'replay', '/factory/in/replay.json']);
    assert.throws(() => getAdapter('custom').invocation({ ...spec, command: undefined }), /needs a command/);
    assert.throws(() => getAdapter('replay').invocation({ ...spec, replayFile: undefined }), /needs a replay file/);
    assert.throws(() => getAdapter('nope'), /unknown agent 'nope' \(known: claude-code, aider, codex, gemini, custom, replay\)/);
    assert.throws(() => getAdapter('__proto__'), /unknown agent/);
  });
});
