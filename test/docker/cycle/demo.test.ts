import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stagingRoots } from '../../../src/core/sandbox/staging-root';
import { requireDocker } from '../../support/engines';

/** The staging copies (`factory-<runId>-XXXXXX`) in every root a cycle may use. */
function stagingCopies(): Set<string> {
  const out = new Set<string>();
  for (const root of stagingRoots()) {
    try {
      for (const n of fs.readdirSync(root)) if (/^factory-\d{8}_\d{6}_/.test(n)) out.add(path.join(root, n));
    } catch {
      /* no such root here */
    }
  }
  return out;
}

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

describe('npm run demo (scripts/demo.mjs as a real process, real Docker)', function () {
  this.timeout(600_000);
  before(function () {
    requireDocker(this);
  });

  it('runs the three outcomes (PASS committed, scope FAIL with nothing applied, Gate FAIL → Auditor → BLOCKED) and exits 0', () => {
    const before = stagingCopies();
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts/demo.mjs')], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 590_000 });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^PASS D201 D201::AC-2, D201::AC-3 → commit [0-9a-f]{7}/m);
    assert.match(r.stdout, /^FAIL D202: .*engine\/__init__\.py \(out-of-scope\)/m);
    assert.match(r.stdout, /^BLOCKED D301 \(escalated → Auditor FAIL\)/m);
    assert.doesNotMatch(r.stdout, /^ {2}FAIL {2}/m);
    assert.match(r.stdout, /All 12 expectations met/);
    // The FAILed cycles' staging copies (in RAM when they fit) go with the demo's throw-away repository.
    assert.deepEqual([...stagingCopies()].filter((d) => !before.has(d)), [], 'no staging copy left behind');
  });
});

describe('npm run demo without a Docker engine', function () {
  this.timeout(180_000);

  it('says that no engine is reachable and how to start one, and exits non-zero', () => {
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts/demo.mjs')], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 170_000,
      env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /no Docker engine is reachable/);
    assert.match(r.stderr, /start dockerd/);
    assert.doesNotMatch(r.stdout, /== cycle 1/);
  });
});
