import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireDocker } from '../../support/engines';
import { WORKER_IMAGE, ensureWorkerImage, hashTree } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const EXAMPLE = path.join(ROOT, 'examples', 'demo-project');

/** `factory …` as a real process (the TypeScript entry point through tsx; same code as dist/cli.js). */
function factory(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('docker: factory sandbox from a terminal, on the bundled example', function () {
  this.timeout(180_000);
  let dir: string;
  let planFile: string;
  before(function () {
    requireDocker(this);
    ensureWorkerImage();
    if (!fs.existsSync(EXAMPLE)) this.skip();
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-cli-sandbox-'));
    planFile = path.join(dir, 'plan.json');
    fs.writeFileSync(
      planFile,
      JSON.stringify({
        schema_version: 1,
        run_id: `cli_${process.pid}_${Date.now()}`,
        ticket_id: 'D202',
        ac_ids: ['D202::AC-1'],
        scope: { modify: ['engine/pricing.py', 'tests/test_pricing.py'], readonly: ['engine/pnl.py'], forbidden: ['D_ROADMAP.md', 'docs/v2/design/AC_LEDGER.md', 'docs/v2/SSOT_RULES.md', '.factory/**'] },
        done_criteria: 'Gate PASS',
        timeout_minutes: 5,
        model_budget: 'standard',
        risk_level: 'MED',
        agent: 'custom',
        created_at: new Date().toISOString(),
      }),
    );
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--json prints status, exitCode, changeset, violations and applied; without --apply the example is never written', () => {
    const before = hashTree(EXAMPLE);
    const r = factory(['sandbox', '--root', EXAMPLE, '--plan', planFile, '--image', WORKER_IMAGE, '--json', '--', 'sh', '-c', 'echo "# tuned" >> engine/pricing.py && echo "# edit" > engine/quotes.py && python3 -m pytest -q >/dev/null']);
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout) as { status: string; exitCode: number; changeset: unknown[]; violations: unknown[]; applied: boolean };
    assert.equal(out.status, 'FAIL');
    assert.equal(out.exitCode, 0);
    assert.deepEqual(out.changeset, [{ path: 'engine/pricing.py', kind: 'modified' }, { path: 'engine/quotes.py', kind: 'added' }]);
    assert.deepEqual(out.violations, [{ path: 'engine/quotes.py', rule: 'out-of-scope' }]);
    assert.equal(out.applied, false);
    assert.equal(hashTree(EXAMPLE), before);
  });

  it('an in-scope change passes (exit 0) and the human output lists it; the example is still untouched', () => {
    const before = hashTree(EXAMPLE);
    const r = factory(['sandbox', '--root', EXAMPLE, '--plan', planFile, '--image', WORKER_IMAGE, '--', 'sh', '-c', 'echo "# tuned" >> engine/pricing.py']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /sandbox: PASS \(exit 0\) — 1 change\(s\), 0 violation\(s\), not applied/);
    assert.match(r.stdout, /modified\s+"engine\/pricing.py"/);
    assert.equal(hashTree(EXAMPLE), before);
  });

  it('a plan that fails validation exits 2 with one clear line', () => {
    fs.writeFileSync(planFile, JSON.stringify({ schema_version: 1, ticket_id: 'x', scope: { modify: ['../etc/**'] } }));
    const r = factory(['sandbox', '--root', EXAMPLE, '--plan', planFile, '--', 'true']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^factory: plan .* does not match its schema/m);
  });
});
