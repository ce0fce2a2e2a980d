import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireDocker } from '../../support/engines';
import { connectDocker } from '../../../src/core/docker/connect';
import { planSchema } from '../../../src/core/contracts/plan';
import { stagingDirsOf } from '../../support/staging';
import { runContainer } from '../../../src/core/sandbox/container';
import { runSandbox } from '../../../src/core/sandbox/run-sandbox';
import { FactoryError } from '../../../src/core/util/errors';
import { startPrivateEngine, type PrivateEngine } from './private-engine';

function tinyRepo(): string {
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-remote-'));
  fs.mkdirSync(path.join(repo, 'src'));
  fs.writeFileSync(path.join(repo, 'src', 'a.txt'), 'a\n');
  const git = (...a: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.email=t@example.invalid', '-c', 'user.name=t', ...a], { stdio: 'pipe' });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'base');
  return repo;
}

const limits = { memoryMb: 128, cpus: 1, pidsLimit: 32, tmpfsMb: 8 };

describe('docker: remote engine over TCP+TLS (a second, private dockerd on 127.0.0.1)', function () {
  this.timeout(180_000);
  let engine: PrivateEngine | undefined;

  before(async function () {
    requireDocker(this);
    engine = await startPrivateEngine();
  });
  after(async () => {
    await engine?.dispose();
  });

  it('connectDocker follows DOCKER_HOST + DOCKER_TLS_VERIFY + DOCKER_CERT_PATH and runs a hardened container there', async () => {
    const conn = await connectDocker({ env: engine!.tlsEnv });
    assert.equal(conn.address, `tcp+tls://127.0.0.1:${engine!.port}`);
    assert.match(conn.serverVersion, /^\d+\./);
    const out: string[] = [];
    const r = await runContainer(
      { image: engine!.image, cmd: ['sh', '-c', 'echo remote-ok'], mounts: [], limits, labels: { runId: 'remote-1', ticket: 'T', role: 'worker' }, timeoutMs: 20_000 },
      { docker: conn.docker, onOutput: (_s, c) => out.push(c.toString()) },
    );
    assert.equal(r.status, 'exited', r.error);
    assert.equal(r.exitCode, 0);
    assert.equal(out.join(''), 'remote-ok\n');
  });

  it('refuses a client without the CA-signed certificate, with a clear error', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-nocert-'));
    try {
      await assert.rejects(connectDocker({ env: { ...engine!.tlsEnv, DOCKER_CERT_PATH: empty } }), (e: unknown) => e instanceof FactoryError && /ca\.pem cannot be read/.test(e.message));
      // Plain HTTP to a TLS port: the engine does not answer us.
      await assert.rejects(connectDocker({ env: { DOCKER_HOST: `tcp://127.0.0.1:${engine!.port}` }, timeoutMs: 3_000 }), (e: unknown) => e instanceof FactoryError && /does not answer/.test(e.message));
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('gives a clear error when there is no engine at DOCKER_HOST', async () => {
    await assert.rejects(connectDocker({ env: { DOCKER_HOST: `unix://${engine!.dir}/absent.sock` } }), (e: unknown) => e instanceof FactoryError && /does not answer/.test(e.message) && e.message.includes('absent.sock'));
  });

  it('SEC-29 a wedged (SIGSTOPped) daemon does not hang the Controller: the cycle ends shortly after the time cap', async function () {
    await engine?.dispose();
    engine = await startPrivateEngine();
    const conn = await connectDocker({ env: engine.tlsEnv });
    const capMs = 4_000;
    const pid = engine.process.pid!;
    try {
      const t0 = Date.now();
      const r = await runContainer(
        { image: engine.image, cmd: ['sleep', '600'], mounts: [], limits, labels: { runId: `sec29-stop-${Date.now()}`, ticket: 'T', role: 'worker' }, timeoutMs: capMs },
        { docker: conn.docker, graceMs: 2_000, onStart: () => void process.kill(pid, 'SIGSTOP') },
      );
      const took = Date.now() - t0;
      assert.notEqual(r.status, 'exited');
      // cap + grace for the kill + grace for each clean-up call (inspect, remove) + attach flush
      assert.ok(took < capMs + 4 * 2_000 + 1_000, `took ${took} ms`);
      assert.ok(r.warnings.some((w) => /did not confirm the exit/.test(w)), r.warnings.join('; '));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`SEC-29 stopping the Docker daemon mid-cycle (${signal}) fails the cycle within the time cap; nothing hangs`, async function () {
      // Each variant stops its engine: give it a fresh one.
      await engine?.dispose();
      engine = await startPrivateEngine();
      const conn = await connectDocker({ env: engine.tlsEnv });
      const repo = tinyRepo();
      const capMs = 20_000;
      try {
        const t0 = Date.now();
        const report = await runSandbox(
          {
            root: repo,
            plan: planSchema.parse({ schema_version: 1, run_id: `sec29_${signal}_${Date.now()}`, ticket_id: 'T', ac_ids: [], scope: { modify: ['src/**'] }, timeout_minutes: 1, model_budget: 'standard', risk_level: 'LOW', agent: 'custom', created_at: new Date().toISOString() }),
            command: ['sleep', '600'],
            image: engine.image,
            timeoutMs: capMs,
            limits,
          },
          { docker: conn.docker, onStart: () => void engine!.stop(signal) },
        );
        const took = Date.now() - t0;
        assert.notEqual(report.status, 'PASS');
        assert.ok(report.status === 'ERROR' || report.status === 'FAIL', `${report.status}: ${report.reasons.join('; ')}`);
        assert.ok(took < capMs, `took ${took} ms (cap ${capMs})`);
        assert.deepEqual(stagingDirsOf(report.runId), [], 'staging copy removed');
      } finally {
        fs.rmSync(repo, { recursive: true, force: true });
      }
    });
  }
});
