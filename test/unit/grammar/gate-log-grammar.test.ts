import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as oniguruma from 'vscode-oniguruma';
import * as vsctm from 'vscode-textmate';
import { renderGateLog } from '../../../src/core/gate/gate-log';
import type { GateReport, StepResult } from '../../../src/core/gate/gate-model';

/**
 * The gate.log TextMate grammar, tokenized by the same engine VS Code uses (vscode-textmate +
 * the oniguruma WASM). Snapshots pin every token's scopes per fixture; the named tests pin the
 * meaning (PASS green, FAIL red, headers as headings) so a snapshot update cannot silently lose it.
 * Update snapshots on purpose with UPDATE_SNAPSHOTS=1.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const GRAMMAR = path.join(ROOT, 'syntaxes', 'gate-log.tmLanguage.json');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'grammar');
const SCOPE = 'text.log.factory-gate';

let grammar: vsctm.IGrammar;

async function loadGrammar(): Promise<vsctm.IGrammar> {
  const wasm = fs.readFileSync(path.join(ROOT, 'node_modules', 'vscode-oniguruma', 'release', 'onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName: string) =>
      scopeName === SCOPE ? vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR, 'utf8'), GRAMMAR) : null,
  });
  const g = await registry.loadGrammar(SCOPE);
  if (!g) throw new Error('grammar did not load');
  return g;
}

interface Tok {
  text: string;
  scopes: string[];
}

function tokenize(text: string): Tok[][] {
  let stack = vsctm.INITIAL;
  const out: Tok[][] = [];
  for (const line of text.replace(/\n$/, '').split('\n')) {
    const r = grammar.tokenizeLine(line, stack);
    out.push(r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes.filter((s) => s !== SCOPE) })));
    stack = r.ruleStack;
  }
  return out;
}

/** One line per token: `"text" scope scope …`, lines separated by a `>` line with the source. */
function snapshot(text: string): string {
  const lines = text.replace(/\n$/, '').split('\n');
  return tokenize(text)
    .map((toks, i) => [`> ${lines[i]}`, ...toks.filter((t) => t.text.trim() !== '' || t.scopes.length > 0).map((t) => `  ${JSON.stringify(t.text)} ${t.scopes.join(' ')}`.trimEnd())].join('\n'))
    .join('\n') + '\n';
}

/** The scopes of the first token whose text is exactly `text` on a line containing `lineHas`. */
function scopesOf(text: string, log: string, lineHas: string, token: string): string[] {
  const lines = log.split('\n');
  const toks = tokenize(log);
  const i = lines.findIndex((l) => l.includes(lineHas));
  assert.ok(i >= 0, `no line contains ${lineHas}`);
  const t = toks[i].find((x) => x.text === token) ?? toks[i].find((x) => x.text.includes(token));
  assert.ok(t, `no token "${token}" on line ${i + 1}: ${JSON.stringify(toks[i])} (${text})`);
  return t.scopes;
}

const has = (scopes: string[], prefix: string): boolean => scopes.some((s) => s.startsWith(prefix));

function step(p: Partial<StepResult> & Pick<StepResult, 'name' | 'status'>): StepResult {
  return { kind: 'stage', argv: ['python3', '-m', 'pytest', '-q'], exitCode: p.status === 'PASS' ? 0 : 1, startedAt: '2026-11-25T11:00:00Z', endedAt: '2026-11-25T11:00:01Z', durationMs: 1000, outputTail: '', ...p };
}

describe('gate.log TextMate grammar', () => {
  before(async function () {
    this.timeout(20_000);
    grammar = await loadGrammar();
  });

  for (const name of fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.log')).sort()) {
    it(`matches the token snapshot of ${name}`, () => {
      const actual = snapshot(fs.readFileSync(path.join(FIXTURES, name), 'utf8'));
      const snapFile = path.join(FIXTURES, `${name}.snap`);
      if (process.env.UPDATE_SNAPSHOTS === '1' || !fs.existsSync(snapFile)) {
        // A missing snapshot is written once locally, but never silently in CI.
        if (process.env.FACTORY_REQUIRE_ENGINES === '1' && !fs.existsSync(snapFile)) assert.fail(`missing snapshot ${snapFile}`);
        fs.writeFileSync(snapFile, actual);
      }
      assert.equal(actual, fs.readFileSync(snapFile, 'utf8'));
    });
  }

  it('colours PASS as inserted and FAIL/ERROR as deleted, in Result and Status lines', () => {
    const log = fs.readFileSync(path.join(FIXTURES, 'fail.gate.log'), 'utf8');
    assert.ok(has(scopesOf('pass', log, 'Result: PASS (0.04s)', 'PASS'), 'markup.inserted.status.pass'));
    assert.ok(has(scopesOf('fail', log, 'Result: FAIL', 'FAIL'), 'markup.deleted.status.fail'));
    assert.ok(has(scopesOf('skipped', log, 'Result: SKIPPED', 'SKIPPED'), 'markup.changed.status.skipped'));
    assert.ok(has(scopesOf('status', log, 'Status: GATE FAIL', 'GATE FAIL'), 'markup.deleted.status.fail'));
    const pass = fs.readFileSync(path.join(FIXTURES, 'pass.gate.log'), 'utf8');
    assert.ok(has(scopesOf('status', pass, 'Status: ALL GATES PASS', 'ALL GATES PASS'), 'markup.inserted.status.pass'));
    const raw = fs.readFileSync(path.join(FIXTURES, 'pytest-raw.log'), 'utf8');
    assert.ok(has(scopesOf('error', raw, 'ERROR tests/test_io.py', 'ERROR'), 'markup.deleted.status.fail'));
  });

  it('marks stage headers, banners and timestamps', () => {
    const log = fs.readFileSync(path.join(FIXTURES, 'fail.gate.log'), 'utf8');
    assert.ok(has(scopesOf('stage', log, 'Gate: fast', 'fast'), 'entity.name.section.stage'));
    assert.ok(has(scopesOf('stage', log, 'Gate: fast', 'Gate'), 'keyword.control.stage'));
    assert.ok(has(scopesOf('guard', log, 'Guard: ssot_docs', 'ssot_docs'), 'entity.name.section.stage'));
    assert.ok(has(scopesOf('banner', log, 'GATE EXECUTION START', '===== GATE EXECUTION START ====='), 'markup.heading.banner'));
    assert.ok(has(scopesOf('time', log, 'GATE EXECUTION START', '2026-11-25 11:02:00'), 'constant.numeric.timestamp'));
    // A command is a string, even when it contains a status word.
    assert.ok(has(scopesOf('cmd', log, "Command: python3 -m pytest -q -x -m 'not slow'", "python3 -m pytest -q -x -m 'not slow'"), 'string.unquoted.command'));
  });

  it('reads pytest summaries: passed counts inserted, failed counts deleted, durations numeric', () => {
    const log = fs.readFileSync(path.join(FIXTURES, 'fail.gate.log'), 'utf8');
    const summary = '| ================== 1 failed, 12 passed, 1 deselected in 0.61s';
    assert.ok(has(scopesOf('failed', log, summary, '1 failed'), 'markup.deleted.count.failed'));
    assert.ok(has(scopesOf('passed', log, summary, '12 passed'), 'markup.inserted.count.passed'));
    assert.ok(has(scopesOf('deselected', log, summary, '1 deselected'), 'markup.changed.count.other'));
    assert.ok(has(scopesOf('summary', log, summary, '1 failed'), 'markup.heading.summary.pytest'));
    assert.ok(has(scopesOf('dur', log, summary, 'in 0.61s'), 'constant.numeric.duration'));
    assert.ok(has(scopesOf('section', log, '| =====', '=================================== FAILURES ==================================='), 'markup.heading.section.pytest'));
    assert.ok(has(scopesOf('E line', log, '| E       assert', 'E'), 'markup.deleted.error-marker'));
    const raw = fs.readFileSync(path.join(FIXTURES, 'pytest-raw.log'), 'utf8');
    assert.ok(has(scopesOf('raw', raw, '1 error in 0.88s', '1 error'), 'markup.deleted.count.failed'));
    assert.ok(has(scopesOf('raw', raw, 'test_pnl PASSED', 'PASSED'), 'markup.inserted.status.pass'));
  });

  it('tokenizes the gate.log that the Gate itself writes (renderGateLog), FAIL step and all', () => {
    const report: Omit<GateReport, 'log'> = {
      status: 'FAIL',
      failedAt: 'fast',
      runner: 'host',
      runnerIdentity: 'node',
      treeHash: 'ab'.repeat(32),
      startedAt: '2026-11-25T11:00:00Z',
      endedAt: '2026-11-25T11:00:03Z',
      durationMs: 3000,
      guards: [step({ kind: 'guard', name: 'ssot_docs', status: 'PASS' })],
      stages: [
        step({ name: 'doctor', status: 'PASS' }),
        step({ name: 'fast', status: 'FAIL', reason: 'exit 1', outputTail: 'FAILED tests/test_a.py::test_b - assert 1 == 2\n==== 1 failed, 3 passed in 0.20s ====' }),
        step({ name: 'regression', status: 'SKIPPED', reason: 'fast failed' }),
      ],
    };
    const log = renderGateLog(report);
    assert.ok(has(scopesOf('w', log, 'Gate: fast', 'fast'), 'entity.name.section.stage'));
    assert.ok(has(scopesOf('w', log, 'Result: FAIL', 'FAIL'), 'markup.deleted.status.fail'));
    assert.ok(has(scopesOf('w', log, 'Result: PASS', 'PASS'), 'markup.inserted.status.pass'));
    assert.ok(has(scopesOf('w', log, '| FAILED tests/test_a.py', 'FAILED'), 'markup.deleted.status.fail'));
    assert.ok(has(scopesOf('w', log, '1 failed, 3 passed', '3 passed'), 'markup.inserted.count.passed'));
    assert.ok(has(scopesOf('w', log, 'Status: GATE FAIL', 'GATE FAIL'), 'markup.deleted.status.fail'));
  });
});
