import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../src/core/config/load';
import type { FactoryConfig } from '../../../src/core/config/schema';
import { validateEvidence } from '../../../src/core/evidence/validator';
import { gateWorkspace } from '../../../src/core/gate/gate-workspace';
import { requireDocker } from '../../support/engines';

const EXAMPLE = path.resolve(__dirname, '../../../examples/demo-project');
const IMAGE = process.env.FACTORY_WORKER_BASE_IMAGE ?? 'agentic-factory/worker-base:bookworm';

/**
 * The Gate on the example workspace in real sandbox containers (the worker base image: Debian
 * bookworm with python3-pytest), as `factory gate` runs it by default.
 */
describe('gate in containers (real Docker engine)', function () {
  this.timeout(300_000);
  let tmp: string;
  let config: FactoryConfig;

  before(function () {
    requireDocker(this);
    try {
      execFileSync('docker', ['image', 'inspect', IMAGE], { stdio: 'pipe' });
    } catch {
      execFileSync('bash', [path.resolve(__dirname, '../../../scripts/build-worker-image.sh'), IMAGE], { stdio: 'inherit', timeout: 900_000 });
    }
  });
  beforeEach(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-docker-'));
    fs.cpSync(EXAMPLE, tmp, { recursive: true, filter: (s) => !/[/\\](logs|__pycache__|\.pytest_cache)$/.test(s) });
    config = (await loadConfig(tmp)).config;
    config.worker.image = IMAGE;
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const write = (rel: string, text: string) => fs.writeFileSync(path.join(tmp, rel), text);

  it('SEC-01 gate containers have no network, no caps, a read-only root, limits, a non-root user and no .git mount; the example passes in ONE container and its evidence is valid', async () => {
    fs.mkdirSync(path.join(tmp, '.git'));
    fs.writeFileSync(path.join(tmp, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    fs.writeFileSync(path.join(tmp, '.env'), 'API_KEY=do-not-copy\n');
    const inspected: unknown[] = [];
    const copies = new Map<string, { git: boolean; env: boolean }>();
    const { report, evidence } = await gateWorkspace({
      root: tmp,
      config,
      noCache: true,
      onContainerStart: (id) => {
        const info = JSON.parse(execFileSync('docker', ['inspect', id], { encoding: 'utf8' }))[0];
        inspected.push(info);
        const src = info.Mounts[0].Source as string;
        copies.set(src, { git: fs.existsSync(path.join(src, '.git')), env: fs.existsSync(path.join(src, '.env')) });
      },
    });
    assert.equal(report.status, 'PASS', report.log);
    assert.equal(report.runner, 'container');
    assert.match(report.runnerIdentity, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(report.stages.map((s) => [s.name, s.status]), [['doctor', 'PASS'], ['fast', 'PASS'], ['regression', 'PASS']]);
    assert.equal(report.stages[0].counts?.collected, 14);
    assert.equal(inspected.length, 1, 'one container for the two guards and three stages');
    for (const c of inspected as { HostConfig: Record<string, unknown>; Config: { User: string }; Mounts: { Source: string; Destination: string }[] }[]) {
      assert.equal(c.HostConfig.NetworkMode, 'none');
      assert.deepEqual(c.HostConfig.CapDrop, ['ALL']);
      assert.equal(c.HostConfig.ReadonlyRootfs, true);
      assert.deepEqual(c.HostConfig.SecurityOpt, ['no-new-privileges']);
      assert.equal(c.HostConfig.Privileged, false);
      assert.ok((c.HostConfig.PidsLimit as number) > 0 && (c.HostConfig.Memory as number) > 0 && (c.HostConfig.NanoCpus as number) > 0);
      // The keep-alive runs as a user the steps (1000:1000, `docker exec`) cannot signal.
      assert.equal(c.Config.User, '65534:65534');
      assert.deepEqual(c.Mounts.map((m) => m.Destination), ['/workspace']);
      const src = c.Mounts[0].Source;
      assert.ok(!src.startsWith(tmp), 'the gate sees a copy, not the working tree');
    }
    assert.equal(copies.size, 1, 'all steps of one Gate share one copy');
    for (const [src, seen] of copies) {
      assert.deepEqual(seen, { git: false, env: false }, 'the copy has no .git and no .env');
      assert.equal(fs.existsSync(src), false, 'the copy is removed after the Gate');
    }
    const id = (inspected[0] as { Id: string }).Id;
    assert.throws(() => execFileSync('docker', ['inspect', id], { stdio: 'pipe' }), 'the Gate\'s container is removed when the Gate ends');
    const check = validateEvidence(evidence.dir, { profitTickets: config.evidence.profitTickets });
    assert.deepEqual(check.problems, []);
  });

  it('a planted Welding violation fails the guard and no stage runs', async () => {
    write('engine/report.py', 'def daily(pairs):\n    return sum((b.price - a.price) * a.qty for a, b in pairs)\n');
    const { report, evidence } = await gateWorkspace({ root: tmp, config, noCache: true });
    assert.equal(report.status, 'FAIL');
    assert.equal(report.failedAt, 'Welding');
    assert.deepEqual(report.stages.map((s) => s.status), ['SKIPPED', 'SKIPPED', 'SKIPPED']);
    const log = fs.readFileSync(path.join(evidence.dir, 'gate.log'), 'utf8');
    assert.match(log, /\| FAIL engine\/report\.py:2: gross PnL re-derived/);
    assert.match(log, /Gate: fast\n.*\n.*Result: SKIPPED \(Welding failed\)/);
    assert.equal(validateEvidence(evidence.dir).valid, true, 'a FAIL run has valid evidence too');
  });

  it('a failing slow test passes fast, fails regression, and is named in gate.log', async () => {
    write(
      'tests/test_zz_regression.py',
      'import pytest\nfrom engine.fees import FeeSchedule\n\n@pytest.mark.slow\ndef test_taker_fee_on_large_notional():\n    assert FeeSchedule(maker_bps=0, taker_bps=5).fee(1_000_000, False) == 501.0\n',
    );
    const { report } = await gateWorkspace({ root: tmp, config, noCache: true });
    assert.equal(report.status, 'FAIL');
    assert.deepEqual(report.stages.map((s) => s.status), ['PASS', 'PASS', 'FAIL']);
    assert.match(report.log, /Failed: tests\/test_zz_regression\.py::test_taker_fee_on_large_notional/);
    assert.match(report.log, /Result: FAIL \(14\/15 PASS, 1 failed, exit 1/);
  });

  it('code under test runs on a copy: a test that rewrites the engine and plants a hook leaves the working tree unchanged', async () => {
    const before = fs.readFileSync(path.join(tmp, 'engine/pnl.py'), 'utf8');
    write(
      'tests/test_zz_hostile.py',
      'import pathlib\n\ndef test_tamper():\n    pathlib.Path("engine/pnl.py").write_text("PWNED")\n    pathlib.Path(".git/hooks").mkdir(parents=True, exist_ok=True)\n    pathlib.Path(".git/hooks/pre-commit").write_text("#!/bin/sh\\necho pwned")\n',
    );
    const { report } = await gateWorkspace({ root: tmp, config, noCache: true, stage: 'fast' });
    assert.equal(report.stages[0].counts?.passed, 14, report.log);
    assert.equal(fs.readFileSync(path.join(tmp, 'engine/pnl.py'), 'utf8'), before);
    assert.equal(fs.existsSync(path.join(tmp, '.git')), false);
  });

  it('an identical PASS is taken from the cache without starting a container, and the evidence says so', async () => {
    const first = await gateWorkspace({ root: tmp, config });
    assert.equal(first.report.status, 'PASS');
    let started = 0;
    const second = await gateWorkspace({ root: tmp, config, onContainerStart: () => void started++ });
    assert.equal(second.report.cache?.hit, true);
    assert.equal(started, 0, 'no container ran');
    assert.equal(second.evidence.manifest.gate_cache?.hit, true);
    assert.equal(second.evidence.manifest.gate_cache?.source_run_id, first.evidence.runId);
    assert.match(fs.readFileSync(path.join(second.evidence.dir, 'cmd_history.txt'), 'utf8'), /PASS reused from run/);
    assert.ok(second.report.cache.decideMs < 1000);
  });
});
