import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { planSchema } from '../../../src/core/contracts/plan';
import { readResultJson, normalizeResult, resultSchema } from '../../../src/core/contracts/result';
import { readAuditReport } from '../../../src/core/contracts/audit-report';
import { UntrustedJsonError } from '../../../src/core/contracts/untrusted-json';

const goodPlan = {
  schema_version: 1,
  run_id: '20261125_104139_d_alpha_0_abc1234',
  ticket_id: 'D_ALPHA-0',
  ac_ids: ['AC-1-1'],
  scope: { modify: ['src/**'], readonly: ['lib/x.py'], forbidden: ['D_ROADMAP.md', '.vscode/**'] },
  done_criteria: 'Gate PASS',
  timeout_minutes: 30,
  model_budget: 'standard',
  risk_level: 'MED',
  agent: 'claude-code',
  created_at: '2026-11-25T10:41:39.123Z',
};

const goodResult = {
  ticket_id: 'D_ALPHA-0',
  status: 'PASS',
  gate_results: { doctor: 'PASS', fast: 'PASS', regression: 'PASS' },
  evidence_path: 'logs/evidence/x/',
  files_changed: ['src/a.py'],
  kpi_summary: { net_pnl_full: 1.5 },
  duration_seconds: 12,
  model_used: 'claude-code-cli',
  cost_estimate_usd: 0.12,
};

describe('contracts: plan.json, result.json, audit_report.json', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-contracts-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, data: string | object) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, typeof data === 'string' ? data : JSON.stringify(data));
    return f;
  };
  const rejects = (f: string, rule: string, message: RegExp) =>
    assert.throws(() => readResultJson(f), (e: unknown) => e instanceof UntrustedJsonError && e.rule === rule && message.test(e.message));

  it('parses the spec example plan and rejects unknown keys', () => {
    assert.equal(planSchema.parse(goodPlan).ticket_id, 'D_ALPHA-0');
    assert.equal(planSchema.safeParse({ ...goodPlan, extra: 1 }).success, false);
  });

  it('SEC-17 plan scope globs pass the path validator (absolute, .., .git, backslash rejected)', () => {
    for (const bad of ['/etc/**', '../x', '.git/**', 'src\\x', '.github/workflows/*.yml']) {
      const r = planSchema.safeParse({ ...goodPlan, scope: { ...goodPlan.scope, modify: [bad] } });
      assert.equal(r.success, false, bad);
    }
    assert.equal(planSchema.safeParse({ ...goodPlan, scope: { ...goodPlan.scope, forbidden: ['.GIT/**'] } }).success, false);
  });

  it('reads a valid result.json and forces PASS with a gate FAIL to FAIL', () => {
    assert.equal(readResultJson(write('r.json', goodResult)).status, 'PASS');
    const lying = readResultJson(write('l.json', { ...goodResult, gate_results: { doctor: 'PASS', fast: 'FAIL' } }));
    assert.equal(lying.status, 'FAIL');
    assert.equal(lying.forced, true);
    assert.equal(normalizeResult(resultSchema.parse({ ...goodResult, status: 'FAIL' })).forced, false);
  });

  it('SEC-16 result.json that is a symlink, FIFO, over 1 MB, malformed, has unknown keys, __proto__ or wrong types is rejected clearly', () => {
    const target = write('target.json', goodResult);
    const link = path.join(dir, 'link.json');
    fs.symlinkSync(target, link);
    rejects(link, 'not-regular-file', /symlink/);
    const fifo = path.join(dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    rejects(fifo, 'not-regular-file', /not a regular file/);
    fs.mkdirSync(path.join(dir, 'd.json'));
    rejects(path.join(dir, 'd.json'), 'not-regular-file', /not a regular file/);
    rejects(write('big.json', JSON.stringify({ ...goodResult, notes: 'x'.repeat(1024 * 1024) })), 'too-large', /limit 1048576/);
    rejects(write('bad.json', '{"status": "PASS",'), 'malformed', /not valid JSON/);
    rejects(write('unk.json', { ...goodResult, sneaky: true }), 'schema', /sneaky|Unrecognized/);
    rejects(write('proto.json', `{"__proto__": {"polluted": 1}, "ticket_id": "x"}`), 'prototype-key', /__proto__/);
    rejects(write('ctor.json', { ...goodResult, kpi_summary: { constructor: 1 } }), 'prototype-key', /constructor/);
    rejects(write('types.json', { ...goodResult, cost_estimate_usd: '0.1' }), 'schema', /cost_estimate_usd/);
    rejects(write('path.json', { ...goodResult, files_changed: ['../../etc/passwd'] }), 'schema', /files_changed/);
    rejects(path.join(dir, 'absent.json'), 'missing', /missing/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('audit_report.json: strict, and PASS with an error violation becomes FAIL', () => {
    const f = write('a.json', { ticket_id: 'T', verdict: 'PASS', violations: [{ file: 'src/a.py', line: 3, rule: 'R1' }], model: 'm', cost_usd: 0.01 });
    assert.equal(readAuditReport(f).verdict, 'FAIL');
    const ok = write('b.json', { ticket_id: 'T', verdict: 'PASS', model: 'm', cost_usd: 0 });
    assert.equal(readAuditReport(ok).verdict, 'PASS');
    assert.throws(() => readAuditReport(write('c.json', { ticket_id: 'T', verdict: 'MAYBE', model: 'm', cost_usd: 0 })), UntrustedJsonError);
  });
});
