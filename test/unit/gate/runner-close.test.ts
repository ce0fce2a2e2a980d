import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultConfig, type FactoryConfig } from '../../../src/core/config/schema';
import { GateCache } from '../../../src/core/gate/gate-cache';
import { runGate } from '../../../src/core/gate/run-gate';
import type { CommandOutcome, CommandSpec, StageRunner } from '../../../src/core/gate/stage-runner';

/**
 * A runner that holds something between commands (the container runner's one container per
 * Gate) is closed by runGate when the Gate ends, on every path; it is told how long all the
 * remaining steps may take, so one container can serve them all.
 */
class FakeRunner implements StageRunner {
  readonly kind = 'container' as const;
  specs: CommandSpec[] = [];
  closed = 0;
  constructor(private readonly exits: Record<string, number | 'throw'> = {}) {}
  identity(): Promise<string> {
    return Promise.resolve('sha256:fake');
  }
  run(spec: CommandSpec): Promise<CommandOutcome> {
    this.specs.push(spec);
    const exit = this.exits[spec.label ?? ''] ?? 0;
    if (exit === 'throw') return Promise.reject(new Error('engine gone'));
    return Promise.resolve({ exitCode: exit, timedOut: false, aborted: false, durationMs: 1, output: `${spec.label}\n`, truncated: false });
  }
  close(): Promise<void> {
    this.closed++;
    return Promise.resolve();
  }
}

function config(): FactoryConfig {
  const c = defaultConfig();
  c.guards = [{ name: 'Welding', command: ['welding'], timeoutSeconds: 10, kind: 'preflight' }];
  c.gate.stages = [
    { name: 'doctor', command: ['doctor'], timeoutSeconds: 20 },
    { name: 'fast', command: ['fast'], timeoutSeconds: 30 },
  ];
  return c;
}

describe('runGate closes its runner', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-close-'));
    fs.writeFileSync(path.join(tmp, 'a.txt'), 'a\n');
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('after a PASS, once, each step told the caps of itself and every later step', async () => {
    const runner = new FakeRunner();
    const report = await runGate({ config: config(), treeDir: tmp, runner });
    assert.equal(report.status, 'PASS');
    assert.equal(runner.closed, 1);
    assert.deepEqual(runner.specs.map((s) => [s.label, s.timeoutMs, s.sessionTimeoutMs]), [['Welding', 10_000, 60_000], ['doctor', 20_000, 50_000], ['fast', 30_000, 30_000]]);
  });

  it('after a FAIL (fail-fast: later steps never reach the runner)', async () => {
    const runner = new FakeRunner({ doctor: 1 });
    const report = await runGate({ config: config(), treeDir: tmp, runner });
    assert.equal(report.failedAt, 'doctor');
    assert.deepEqual(runner.specs.map((s) => s.label), ['Welding', 'doctor']);
    assert.equal(runner.closed, 1);
  });

  it('when the runner throws, and when the stage is unknown', async () => {
    const throwing = new FakeRunner({ doctor: 'throw' });
    await assert.rejects(runGate({ config: config(), treeDir: tmp, runner: throwing }), /engine gone/);
    assert.equal(throwing.closed, 1);
    const unknown = new FakeRunner();
    await assert.rejects(runGate({ config: config(), treeDir: tmp, runner: unknown, stage: 'nope' }), /unknown gate stage/);
    assert.equal(unknown.closed, 1);
  });

  it('after a cache hit, which runs no command', async () => {
    const cache = new GateCache(path.join(tmp, 'cache'));
    const c = config();
    c.paths.autopilot = 'cache';
    await runGate({ config: c, treeDir: tmp, runner: new FakeRunner(), cache });
    const runner = new FakeRunner();
    const hit = await runGate({ config: c, treeDir: tmp, runner, cache });
    assert.equal(hit.cache?.hit, true);
    assert.equal(runner.specs.length, 0);
    assert.equal(runner.closed, 1);
  });
});
