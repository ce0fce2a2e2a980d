import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REQUIRE_ENGINES } from '../../support/engines';

const ROOT = path.resolve(__dirname, '../../..');
const EXAMPLE = path.join(ROOT, 'examples', 'demo-project');

/** The CLI as a user runs it (a real process on the TypeScript sources through tsx). */
function factory(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('factory gate / docops / evidence-check (CLI)', function () {
  this.timeout(120_000);
  let tmp: string;
  before(function () {
    if (spawnSync('python3', ['-m', 'pytest', '--version']).status !== 0) {
      if (REQUIRE_ENGINES) throw new Error('python3 -m pytest is required in CI (.ci/run installs python3-pytest)');
      this.skip();
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-gate-'));
    fs.cpSync(EXAMPLE, tmp, { recursive: true, filter: (s) => !/[/\\](logs|__pycache__|\.pytest_cache)$/.test(s) });
  });
  after(() => tmp && fs.rmSync(tmp, { recursive: true, force: true }));

  it('gate --json passes on the example (host), evidence-check validates the run, a tampered file makes it exit 1 with the reason', () => {
    const g = factory(['gate', '--root', tmp, '--run-in', 'host', '--stage', 'fast', '--json']);
    assert.equal(g.code, 0, g.err + g.out);
    const res = JSON.parse(g.out);
    assert.equal(res.status, 'PASS');
    assert.match(res.runId, /^\d{8}_\d{6}_gate_fast_0000000$/);
    assert.deepEqual(res.steps.map((s: { name: string }) => s.name), ['Welding', 'Engine-Centric', 'fast']);

    const ok = factory(['evidence-check', '--root', tmp]);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, new RegExp(`${res.runId}: VALID`));

    fs.appendFileSync(path.join(tmp, res.evidenceDir, 'kpi.json'), ' ');
    const bad = factory(['evidence-check', res.runId, '--root', tmp, '--json']);
    assert.equal(bad.code, 1);
    const report = JSON.parse(bad.out);
    assert.equal(report.valid, false);
    assert.deepEqual(report.runs[0].problems.map((p: { file: string; code: string }) => `${p.file}:${p.code}`), ['kpi.json:hash-mismatch']);
  });

  it('evidence-check refuses a path instead of a run id, and reports a run that does not exist', () => {
    assert.equal(factory(['evidence-check', '../../etc', '--root', tmp]).code, 2);
    const missing = factory(['evidence-check', '20990101_000000_x_0000000', '--root', tmp]);
    assert.equal(missing.code, 1);
    assert.match(missing.out, /missing: evidence run 20990101_000000_x_0000000 does not exist/);
  });

  it('evidence-check --reproduce needs a run id, refuses a path, and says why a gate run or old evidence cannot be reproduced', () => {
    const none = factory(['evidence-check', '--reproduce', '--root', tmp]);
    assert.equal(none.code, 2);
    assert.match(none.err, /--reproduce needs a run id/);
    assert.equal(factory(['evidence-check', '--reproduce', '../../etc', '--root', tmp]).code, 2);
    const gateRun = fs.readdirSync(path.join(tmp, 'logs', 'evidence')).find((d) => /_gate_fast_/.test(d));
    assert.ok(gateRun, 'the gate run of the first test');
    const g = factory(['evidence-check', '--reproduce', gateRun, '--root', tmp]);
    assert.equal(g.code, 1);
    assert.match(g.err, /is a `factory gate` run of the working tree, not a cycle's PASS: it has no verified tree/);
    // The example's shipped evidence was written before verified trees existed.
    fs.cpSync(path.join(EXAMPLE, 'logs/evidence/20261125_110514_d201_0000000'), path.join(tmp, 'logs/evidence/20261125_110514_d201_0000000'), { recursive: true });
    const old = factory(['evidence-check', '--reproduce', '20261125_110514_d201_0000000', '--root', tmp]);
    assert.equal(old.code, 1);
    assert.match(old.err, /predates reproducible evidence/);
  });

  it('gate with an unknown stage exits 2 and leaves no evidence folder behind', () => {
    const before = fs.readdirSync(path.join(tmp, 'logs', 'evidence')).length;
    const r = factory(['gate', '--root', tmp, '--run-in', 'host', '--stage', 'nope']);
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown gate stage "nope"/);
    assert.equal(fs.readdirSync(path.join(tmp, 'logs', 'evidence')).length, before);
  });

  it('docops passes on the example and fails (exit 1) on a forbidden token, naming file and line', () => {
    const ok = factory(['docops', '--root', tmp]);
    assert.equal(ok.code, 0, ok.out + ok.err);
    const cfgFile = path.join(tmp, '.factory', 'config.json');
    const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
    cfg.docops = { forbiddenTokens: ['FIXME'], strict: true };
    fs.writeFileSync(cfgFile, JSON.stringify(cfg));
    fs.appendFileSync(path.join(tmp, 'README.md'), '\nFIXME before release\n');
    const bad = factory(['docops', '--root', tmp]);
    assert.equal(bad.code, 1);
    assert.match(bad.out, /DocOps Token: FAIL \(1 finding\)\n {2}error README\.md:\d+: forbidden token "FIXME"/);
  });
});
