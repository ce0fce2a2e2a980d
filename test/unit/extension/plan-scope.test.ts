import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkScope, compileScope, scopeClassOf } from '../../../src/core/changeset/scope';
import type { PlanInput } from '../../../src/core/contracts/plan';
import { readPlanScope, repoRelative, scopeDecoration, type PlanScope } from '../../../src/extension/decorations/plan-scope';

const plan: PlanInput = {
  schema_version: 1,
  run_id: '20261125_110514_d201_abcdef0',
  ticket_id: 'D201',
  ac_ids: ['D201::AC-1'],
  scope: {
    modify: ['engine/**', 'tests/test_pricing.py'],
    readonly: ['engine/fees.py'],
    forbidden: ['engine/secrets/**', '.env'],
  },
  done_criteria: '',
  timeout_minutes: 10,
  model_budget: 'standard',
  risk_level: 'LOW',
  agent: 'replay',
  created_at: '2026-11-25T11:05:14Z',
};

describe('plan scope decorations (plan.json → which files are in scope)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-plan-scope-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function write(value: unknown, name = 'plan.json'): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
    return file;
  }

  function scopeOf(file: string): PlanScope {
    const read = readPlanScope(file);
    assert.equal(read.kind, 'ok', JSON.stringify(read));
    return (read as { scope: PlanScope }).scope;
  }

  it('marks modify / readonly / forbidden files with their badge, tooltip and theme colour', () => {
    const scope = scopeOf(write(plan));
    assert.equal(scope.ticketId, 'D201');
    assert.deepEqual(scopeDecoration(scope, 'engine/pricing.py'), { scope: 'modify', badge: '✎', color: 'charts.blue', tooltip: 'in plan scope: modify (D201)' });
    assert.deepEqual(scopeDecoration(scope, 'tests/test_pricing.py')?.scope, 'modify');
    assert.deepEqual(scopeDecoration(scope, 'engine/fees.py'), { scope: 'readonly', badge: 'RO', color: 'disabledForeground', tooltip: 'in plan scope: readonly (D201)' });
    assert.deepEqual(scopeDecoration(scope, '.env'), { scope: 'forbidden', badge: '⊘', color: 'errorForeground', tooltip: 'in plan scope: forbidden (D201)' });
    assert.equal(scopeDecoration(scope, 'tests/test_fees.py'), undefined, 'not named by the plan');
    assert.equal(scopeDecoration(scope, 'README.md'), undefined);
    assert.equal(scopeDecoration(scope, ''), undefined, 'the workspace root itself');
    for (const d of ['engine/pricing.py', 'engine/fees.py', '.env'].map((p) => scopeDecoration(scope, p))) {
      assert.ok(d && [...d.badge].length <= 2, 'VS Code allows at most two characters');
    }
  });

  it('precedence forbidden > readonly > modify, exactly as the scope check ranks a change', () => {
    const scope = scopeOf(write(plan));
    // engine/secrets/** is inside engine/** (modify) and forbidden; engine/fees.py is in modify and readonly.
    assert.equal(scopeDecoration(scope, 'engine/secrets/key.py')?.scope, 'forbidden');
    assert.equal(scopeDecoration(scope, 'engine/fees.py')?.scope, 'readonly');
    const matcher = compileScope({ modify: plan.scope.modify, readonly: plan.scope.readonly ?? [], forbidden: plan.scope.forbidden ?? [] });
    const paths = ['engine/pricing.py', 'engine/fees.py', 'engine/secrets/key.py', '.env', 'README.md', 'tests/test_pricing.py'];
    const expectedRule = { modify: undefined, readonly: 'readonly', forbidden: 'forbidden', none: 'out-of-scope' } as const;
    for (const p of paths) {
      const [violation] = checkScope([{ path: p, kind: 'modified', before: 'file', after: 'file' }], matcher);
      assert.equal(violation?.rule, expectedRule[scopeClassOf(matcher, p) ?? 'none'], p);
      assert.equal(scopeDecoration(scope, p)?.scope, scopeClassOf(matcher, p), p);
    }
  });

  it('globs match like the scope check: case-sensitive, dotfiles included, no partial names', () => {
    const scope = scopeOf(write({ ...plan, scope: { modify: ['src/**'], readonly: [], forbidden: [] } }));
    assert.equal(scopeDecoration(scope, 'src/.hidden/x.ts')?.scope, 'modify');
    assert.equal(scopeDecoration(scope, 'SRC/a.ts'), undefined);
    assert.equal(scopeDecoration(scope, 'srcx/a.ts'), undefined);
  });

  it('no plan is "none"; a plan that breaks its schema, is not JSON, or is a symlink is "invalid" with the reason', () => {
    assert.deepEqual(readPlanScope(path.join(dir, 'plan.json')), { kind: 'none' });
    const bad = readPlanScope(write({ ...plan, scope: { modify: ['../outside/**'] } }));
    assert.equal(bad.kind, 'invalid');
    assert.match((bad as { message: string }).message, /scope\.modify/);
    const extra = readPlanScope(write({ ...plan, surprise: true }));
    assert.equal(extra.kind, 'invalid');
    assert.equal(readPlanScope(write('{ "schema_version": 1,')).kind, 'invalid');
    const real = write(plan, 'real.json');
    fs.symlinkSync(real, path.join(dir, 'linked.json'));
    const linked = readPlanScope(path.join(dir, 'linked.json'));
    assert.equal(linked.kind, 'invalid');
    assert.match((linked as { message: string }).message, /symlink/);
  });

  it('repoRelative keeps only paths strictly inside the root, with forward slashes', () => {
    assert.equal(repoRelative('/w/repo', '/w/repo/engine/pricing.py', path.posix), 'engine/pricing.py');
    assert.equal(repoRelative('/w/repo', '/w/repo', path.posix), undefined);
    assert.equal(repoRelative('/w/repo', '/w/repo-other/a.py', path.posix), undefined);
    assert.equal(repoRelative('/w/repo', '/w/a.py', path.posix), undefined);
    assert.equal(repoRelative('/w/repo', '/w/repo/..foo/a.py', path.posix), '..foo/a.py');
    assert.equal(repoRelative('C:\\w\\repo', 'C:\\w\\repo\\engine\\pricing.py', path.win32), 'engine/pricing.py');
    assert.equal(repoRelative('C:\\w\\repo', 'D:\\other\\a.py', path.win32), undefined);
  });
});
