import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildCli, copyDemo, DEMO_DIR, runCli, tempDirs } from './cli-process';

/** `| ID | TITLE | STAGE | STATUS | EVIDENCE | …` rows of the example's ledger, by a plain line scan. */
function ledgerRows(): { id: string; status: string; evidence: string }[] {
  return fs
    .readFileSync(path.join(DEMO_DIR, 'docs/v2/design/AC_LEDGER.md'), 'utf8')
    .split('\n')
    .filter((l) => /^\|\s*D\d+::AC-\d+\s*\|/.test(l))
    .map((l) => {
      const c = l.split('|').map((x) => x.trim());
      return { id: c[1], status: c[4], evidence: c[5] };
    });
}

describe('the example workspace (examples/demo-project)', function () {
  this.timeout(120_000);
  const tmp = tempDirs();
  before(() => buildCli());
  after(() => tmp.cleanup());

  it('its own tests pass with only the standard library and pytest', function () {
    const probe = spawnSync('python3', ['-m', 'pytest', '--version'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      console.warn('  ! skipping: python3 -m pytest is not available on this machine');
      this.skip();
    }
    const copy = copyDemo(tmp.make('example-pytest'));
    const r = spawnSync('python3', ['-m', 'pytest', '-q'], { cwd: copy, encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\d+ passed/);
  });

  it('every DONE AC points at an evidence run that exists, names that AC and is valid (factory evidence-check)', () => {
    const done = ledgerRows().filter((r) => r.status === 'DONE');
    assert.ok(done.length > 0);
    for (const row of done) {
      const manifestFile = path.join(DEMO_DIR, row.evidence, 'manifest.json');
      assert.ok(fs.existsSync(manifestFile), `${row.id}: ${row.evidence} has a manifest`);
      const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
      assert.ok(manifest.ac_ids.includes(row.id), `${row.id} is listed in ${row.evidence}`);
      assert.equal(manifest.status, 'PASS');
    }
    const copy = copyDemo(tmp.make('example-evidence'));
    const r = runCli(['evidence-check', '--root', copy, '--all', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).valid, true);
  });

  it('OPEN ACs carry no evidence, and the per-ticket scopes in the config name tickets of the roadmap', () => {
    for (const row of ledgerRows().filter((r) => r.status === 'OPEN')) assert.equal(row.evidence, 'NONE', row.id);
    const s = JSON.parse(runCli(['status', '--root', DEMO_DIR, '--json']).stdout);
    const ids = new Set((s.tickets.list as { id: string }[]).map((t) => t.id));
    const cfg = JSON.parse(fs.readFileSync(path.join(DEMO_DIR, '.factory/config.json'), 'utf8'));
    for (const t of cfg.scope.tickets as { ticket: string }[]) assert.ok(ids.has(t.ticket), `${t.ticket} is in the roadmap`);
    for (const t of cfg.evidence.profitTickets as string[]) assert.ok(ids.has(t), `${t} is in the roadmap`);
  });

  it('keeps secrets out: .env is git-ignored', () => {
    const ignore = fs.readFileSync(path.join(DEMO_DIR, '.gitignore'), 'utf8').split('\n');
    assert.ok(ignore.includes('.env'));
  });
});
