import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { manifestSchema } from '../../../src/core/evidence/evidence-format';
import { requireDocker } from '../../support/engines';
import { REPLAYS, cleanup, cli, exampleRepo, git } from '../cycle/helpers';

/**
 * `factory evidence-check --reproduce RUN` as a user runs it (dist/cli.js), after a real PASS
 * cycle of the example: the Gate re-runs in the sandbox on the verified tree and matches; a
 * rewritten commit is refused naming the file; a Gate that now differs is a mismatch.
 */
describe('factory evidence-check --reproduce (CLI process, real engine)', function () {
  this.timeout(600_000);
  let repo: string;
  let runId: string;
  let evidenceDir: string;

  before(async function () {
    requireDocker(this);
    if (!fs.existsSync(path.join(__dirname, '../../../dist/cli.js'))) throw new Error('run `node esbuild.js --tests` first');
    repo = exampleRepo();
    const run = await cli(['run', '--root', repo, '--agent', 'replay', '--replay', REPLAYS, '--max-cycles', '1', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const cycle = JSON.parse(run.stdout.trim().split('\n')[0]) as { status: string; runId: string; evidencePath: string };
    assert.equal(cycle.status, 'PASS', run.stdout);
    runId = cycle.runId;
    evidenceDir = path.join(repo, cycle.evidencePath);
  });
  after(cleanup);

  it('the PASS evidence names the verified tree (not the commit\'s, which also holds the ledger) and the Gate image by id', () => {
    const manifest = manifestSchema.parse(JSON.parse(fs.readFileSync(path.join(evidenceDir, 'manifest.json'), 'utf8')));
    const v = manifest.verified!;
    assert.ok(v, 'manifest.verified');
    const commit = git(repo, 'log', '--format=%H', '--grep', `^Factory-Run: ${runId.replace(/\./g, '\\.')}$`).trim();
    assert.equal(commit, git(repo, 'rev-parse', 'HEAD').trim());
    assert.notEqual(v.tree, git(repo, 'rev-parse', 'HEAD^{tree}').trim());
    assert.equal(v.base_commit, git(repo, 'rev-parse', 'HEAD^').trim());
    assert.deepEqual(v.changes.map((c) => c.path).sort(), ['engine/pricing.py', 'tests/test_pricing.py']);
    assert.equal(v.image, 'agentic-factory/worker-base:bookworm');
    assert.match(v.image_id ?? '', /^sha256:[0-9a-f]{64}$/);
    const kpi = JSON.parse(fs.readFileSync(path.join(evidenceDir, 'kpi.json'), 'utf8'));
    assert.deepEqual(kpi.steps.map((s: { name: string }) => s.name), ['Welding', 'Engine-Centric', 'doctor', 'fast', 'regression']);
    assert.ok(kpi.steps.find((s: { name: string }) => s.name === 'fast').tests.passed > 0);
    assert.ok(kpi.changeset.lines_added > 0);
    const readme = fs.readFileSync(path.join(evidenceDir, 'README.md'), 'utf8');
    assert.ok(readme.includes(`factory evidence-check --reproduce ${runId}`));
    // The run's first cycle checked the baseline on HEAD (the example is green): kpi, manifest and README say so.
    const base = v.base_commit;
    assert.deepEqual([kpi.baseline?.status, kpi.baseline?.commit, manifest.baseline?.status], ['green', base, 'green']);
    assert.ok(readme.includes(`Baseline: baseline on HEAD ${base.slice(0, 7)}: green`), readme);
  });

  it('succeeds on the run as committed: every Gate step matches, exit 0', async () => {
    const r = await cli(['evidence-check', '--reproduce', runId, '--root', repo]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /= the verified tree/);
    for (const step of ['guard Welding', 'stage doctor', 'stage fast', 'stage regression']) assert.match(r.stdout, new RegExp(`^${step} +PASS.* ok$`, 'm'));
    assert.match(r.stdout, /^REPRODUCED/m);
    assert.match(r.stderr, /reproduce: running the Gate on tree [0-9a-f]{12}/);
  });

  it('in another image (another id) it warns that a difference may come from the image', async function () {
    // The Worker image with the agents is built on the base image: same tools, another id. Not on every machine.
    const other = 'agentic-factory/worker:bookworm';
    try {
      execFileSync('docker', ['image', 'inspect', other], { stdio: 'ignore' });
    } catch {
      this.skip();
    }
    const r = await cli(['evidence-check', '--reproduce', runId, '--root', repo, '--image', other]);
    assert.match(r.stderr, /warning: the image agentic-factory\/worker:bookworm is now sha256:[0-9a-f]{12}…, the run was verified in sha256:[0-9a-f]{12}…: a difference may come from the image/);
    assert.match(r.stdout, new RegExp(`^ {2}image {4}${other} sha256:`, 'm'));
  });

  it('fails, naming the file, when the run\'s commit is rewritten with one changed file (the trailer kept)', async () => {
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    const file = path.join(repo, 'engine/pricing.py');
    const original = fs.readFileSync(file, 'utf8');
    try {
      fs.appendFileSync(file, '\n# edited after the run\n');
      git(repo, 'commit', '-q', '-a', '--amend', '--no-edit');
      const r = await cli(['evidence-check', '--reproduce', runId, '--root', repo]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /the tree of [0-9a-f]{12} is not the tree that was verified \([0-9a-f]{12}\): engine\/pricing\.py$/m);
      assert.doesNotMatch(r.stderr, /running the Gate/, 'no Gate on a tree that was not verified');
    } finally {
      git(repo, 'reset', '-q', '--hard', head);
      assert.equal(fs.readFileSync(file, 'utf8'), original);
    }
  });

  it('reports a mismatch when the Gate now gives another result on the same tree (the commit changed the Gate\'s configuration, outside the changeset)', async () => {
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    const configFile = path.join(repo, '.factory/config.json');
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    // fast now runs only the slow tests: same tree, another result.
    config.gate.stages.find((s: { name: string }) => s.name === 'fast').command = ['python3', '-m', 'pytest', '-q', '-x', '-m', 'slow'];
    try {
      fs.writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n');
      git(repo, 'commit', '-q', '-a', '--amend', '--no-edit');
      const r = await cli(['evidence-check', '--reproduce', runId, '--root', repo, '--json']);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const out = JSON.parse(r.stdout);
      assert.equal(out.tree.matches, true, 'the tree is the verified one');
      const fast = out.steps.find((s: { name: string }) => s.name === 'fast');
      assert.equal(fast.match, false);
      assert.match(fast.note, /command differs/);
      assert.deepEqual(out.steps.filter((s: { match: boolean }) => s.match).map((s: { name: string }) => s.name).slice(0, 3), ['Welding', 'Engine-Centric', 'doctor']);
      assert.match(out.problems.join('\n'), /the Gate does not reproduce: stage fast/);
    } finally {
      git(repo, 'reset', '-q', '--hard', head);
    }
  });

  it('evidence written before the verified tree existed gets a clear error', async () => {
    const r = await cli(['evidence-check', '--reproduce', '20261125_110514_d201_0000000', '--root', repo]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /predates reproducible evidence/);
  });
});
