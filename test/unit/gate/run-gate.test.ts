import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultConfig, type FactoryConfig } from '../../../src/core/config/schema';
import { GateCache } from '../../../src/core/gate/gate-cache';
import { HostRunner, hostToolchain } from '../../../src/core/gate/host-runner';
import { runGate } from '../../../src/core/gate/run-gate';
import { reconcileWorkerStatus } from '../../../src/core/gate/worker-verdict';

/** `node -e SCRIPT` as an argv. */
const nodeE = (script: string) => [process.execPath, '-e', script];
/** A command that appends its name to a marker file outside the tree (so the tree hash is stable). */
const mark = (marker: string, name: string) => nodeE(`require('fs').appendFileSync(${JSON.stringify(marker)}, ${JSON.stringify(name + '\n')})`);

function configWith(patch: (c: FactoryConfig) => void): FactoryConfig {
  const c = defaultConfig();
  patch(c);
  return c;
}

describe('gate runner (host)', function () {
  let tmp: string;
  let tree: string;
  let marker: string;

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-'));
    tree = path.join(tmp, 'tree');
    fs.mkdirSync(path.join(tree, 'test'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'app.js'), 'module.exports = (a, b) => a + b;\n');
    marker = path.join(tmp, 'ran.txt');
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const ran = () => (fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8').trim().split('\n') : []);

  it('a guard failure stops the gate before doctor and fast: no stage runs', async () => {
    const config = configWith((c) => {
      c.guards = [
        { name: 'Welding', command: nodeE(`console.log('duplicate pnl in engine/fees.py'); process.exit(1)`), timeoutSeconds: 10, kind: 'preflight' },
        { name: 'Engine-Centric', command: mark(marker, 'Engine-Centric'), timeoutSeconds: 10, kind: 'preflight' },
      ];
      c.gate.stages = ['doctor', 'fast', 'regression'].map((n) => ({ name: n, command: mark(marker, n), timeoutSeconds: 10 }));
    });
    const report = await runGate({ config, treeDir: tree, runner: new HostRunner({ cwd: tree }) });
    assert.equal(report.status, 'FAIL');
    assert.equal(report.failedAt, 'Welding');
    assert.deepEqual(ran(), [], 'no later guard or stage may run');
    assert.deepEqual(report.stages.map((s) => s.status), ['SKIPPED', 'SKIPPED', 'SKIPPED']);
    assert.equal(report.guards[1].status, 'SKIPPED');
    assert.match(report.log, /Guard: Welding\n.*Command: .*\n.*Result: FAIL \(exit 1/);
    assert.match(report.log, /\| duplicate pnl in engine\/fees\.py/);
    assert.match(report.log, /Status: GATE FAIL ❌ \(failed at: Welding\)/);
  });

  it('docops guards are not part of the gate', async () => {
    const config = configWith((c) => {
      c.guards = [{ name: 'Tokens', command: nodeE('process.exit(1)'), timeoutSeconds: 10, kind: 'docops' }];
      c.gate.stages = [{ name: 'doctor', command: mark(marker, 'doctor'), timeoutSeconds: 10 }];
    });
    const report = await runGate({ config, treeDir: tree, runner: new HostRunner({ cwd: tree }) });
    assert.equal(report.status, 'PASS');
    assert.deepEqual(ran(), ['doctor']);
  });

  it('a failing test in regression fails the gate and is named in gate.log', async () => {
    fs.writeFileSync(
      path.join(tree, 'test', 'pnl.test.js'),
      `const test = require('node:test'); const assert = require('node:assert');
       const add = require('../app.js');
       test('adds fees', () => assert.equal(add(1, 2), 3));
       test('net pnl rounds half-even', () => assert.equal(add(0.1, 0.2), 0.3));\n`,
    );
    const config = configWith((c) => {
      c.guards = [];
      c.gate.stages = [
        { name: 'doctor', command: nodeE('process.exit(0)'), timeoutSeconds: 30 },
        { name: 'fast', command: [process.execPath, '--test', '--test-name-pattern', 'adds fees', 'test/'], timeoutSeconds: 60 },
        { name: 'regression', command: [process.execPath, '--test', 'test/'], timeoutSeconds: 60 },
      ];
    });
    const report = await runGate({ config, treeDir: tree, runner: new HostRunner({ cwd: tree }) });
    assert.equal(report.status, 'FAIL');
    assert.equal(report.failedAt, 'regression');
    assert.deepEqual(report.stages.map((s) => s.status), ['PASS', 'PASS', 'FAIL']);
    const reg = report.stages[2];
    assert.equal(reg.counts?.framework, 'node-test');
    assert.equal(reg.counts?.failed, 1);
    assert.equal(reg.counts?.passed, 1);
    assert.match(report.log, /Gate: regression\n.*\n.*Result: FAIL \(1\/2 PASS, 1 failed, exit 1/);
    assert.match(report.log, /Failed: net pnl rounds half-even/);
  });

  it('a stage that exits 0 while its summary reports failures is a FAIL', async () => {
    const config = configWith((c) => {
      c.guards = [];
      c.gate.stages = [{ name: 'fast', command: nodeE(`console.log('12 passed, 1 failed, 0 skipped')`), timeoutSeconds: 10 }];
    });
    const report = await runGate({ config, treeDir: tree, runner: new HostRunner({ cwd: tree }) });
    assert.equal(report.status, 'FAIL');
    assert.equal(report.stages[0].reason, 'exit 0 but the test summary reports failures');
  });

  it('a stage that outlives its timeout is killed with its children and recorded as TIMEOUT', async () => {
    const pidFile = path.join(tmp, 'child.pid');
    const config = configWith((c) => {
      c.guards = [];
      c.gate.stages = [
        {
          name: 'fast',
          // The stage spawns a grandchild that would outlive a plain kill of the leader.
          command: nodeE(
            `const cp=require('child_process');const c=cp.spawn(process.execPath,['-e','setInterval(()=>{},1000)'],{stdio:'ignore'});require('fs').writeFileSync(${JSON.stringify(pidFile)},String(c.pid));setInterval(()=>{},1000)`,
          ),
          timeoutSeconds: 1,
        },
        { name: 'regression', command: mark(marker, 'regression'), timeoutSeconds: 10 },
      ];
    });
    const report = await runGate({ config, treeDir: tree, runner: new HostRunner({ cwd: tree, killGraceMs: 200 }) });
    assert.equal(report.stages[0].status, 'TIMEOUT');
    assert.equal(report.stages[1].status, 'SKIPPED');
    assert.deepEqual(ran(), []);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 200));
    // Gone, or a zombie waiting for a reaper: either way no longer running.
    const state = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] : 'gone';
    assert.ok(state === 'gone' || state === 'Z', `the grandchild must not run on (state ${state})`);
  });

  it('an abort stops the running stage at once and skips the rest', async () => {
    const config = configWith((c) => {
      c.guards = [];
      c.gate.stages = [
        { name: 'fast', command: nodeE('setInterval(() => {}, 1000)'), timeoutSeconds: 60 },
        { name: 'regression', command: mark(marker, 'regression'), timeoutSeconds: 10 },
      ];
    });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const t0 = Date.now();
    const report = await runGate({ config, treeDir: tree, runner: new HostRunner({ cwd: tree, killGraceMs: 200 }), signal: ac.signal });
    assert.ok(Date.now() - t0 < 5000);
    assert.equal(report.status, 'FAIL');
    assert.deepEqual(report.stages.map((s) => [s.status, s.reason]), [['ERROR', 'aborted'], ['SKIPPED', 'gate aborted']]);
    assert.deepEqual(ran(), []);
  });

  it('a stage that floods its output keeps only the tail (capped memory) and still reads the summary at the end', async () => {
    const runner = new HostRunner({ cwd: tree, outputCap: 64 * 1024 });
    const out = await runner.run({
      argv: nodeE(`const line='x'.repeat(1023)+'\\n'; for (let i = 0; i < 8192; i++) process.stdout.write(line); console.log('5 passed, 0 failed')`),
      timeoutMs: 20_000,
    });
    assert.equal(out.exitCode, 0);
    assert.equal(out.truncated, true);
    assert.ok(Buffer.byteLength(out.output) <= 64 * 1024);
    assert.match(out.output, /5 passed, 0 failed\n$/);
  });

  it('a command that cannot start is an ERROR, not a crash', async () => {
    const config = configWith((c) => {
      c.guards = [];
      c.gate.stages = [{ name: 'doctor', command: ['definitely-not-a-program-xyz'], timeoutSeconds: 10 }];
    });
    const report = await runGate({ config, treeDir: tree, runner: new HostRunner({ cwd: tree }) });
    assert.equal(report.status, 'FAIL');
    assert.equal(report.stages[0].status, 'ERROR');
    assert.match(report.stages[0].reason!, /could not start/);
  });

  it('--stage runs the guards and only the named stage; an unknown stage is a usage error', async () => {
    const config = configWith((c) => {
      c.guards = [{ name: 'Welding', command: mark(marker, 'Welding'), timeoutSeconds: 10, kind: 'preflight' }];
      c.gate.stages = ['doctor', 'fast', 'regression'].map((n) => ({ name: n, command: mark(marker, n), timeoutSeconds: 10 }));
    });
    const report = await runGate({ config, treeDir: tree, runner: new HostRunner({ cwd: tree }), stage: 'fast' });
    assert.equal(report.status, 'PASS');
    assert.deepEqual(ran(), ['Welding', 'fast']);
    await assert.rejects(runGate({ config, treeDir: tree, runner: new HostRunner({ cwd: tree }), stage: 'nope' }), /unknown gate stage "nope"/);
  });

  it('SEC-24 gate commands on the host do not see the Controller\'s API keys in their environment', async () => {
    process.env.ANTHROPIC_API_KEY = 'sk-ant-test-secret';
    try {
      const config = configWith((c) => {
        c.guards = [];
        c.gate.stages = [{ name: 'doctor', command: nodeE(`process.exit(process.env.ANTHROPIC_API_KEY ? 1 : 0)`), timeoutSeconds: 10 }];
      });
      const report = await runGate({ config, treeDir: tree, runner: new HostRunner({ cwd: tree }) });
      assert.equal(report.status, 'PASS');
    } finally {
      delete process.env.ANTHROPIC_API_KEY;
    }
  });

  it('SEC-25 a key that a gate command prints is redacted before gate.log and the captured output', async () => {
    const key = 'sk-ant-api03-abcdefghijklmnop';
    const config = configWith((c) => {
      c.guards = [];
      c.gate.stages = [{ name: 'fast', command: nodeE(`console.log('using ${key}'); process.exit(1)`), timeoutSeconds: 10 }];
    });
    const report = await runGate({ config, treeDir: tree, runner: new HostRunner({ cwd: tree }), secrets: [key] });
    assert.equal(report.status, 'FAIL');
    assert.ok(!report.log.includes(key) && !report.stages[0].output!.includes(key) && !report.stages[0].outputTail.includes(key));
    assert.match(report.log, /\| using \[REDACTED\]/);
  });

  it('SEC-25 streamed output reaches the listener live and redacted, even when a key is split across writes', async () => {
    const key = 'sk-ant-api03-streamsecret-0123';
    const config = configWith((c) => {
      c.guards = [];
      c.gate.stages = [
        {
          name: 'fast',
          command: nodeE(`process.stdout.write('first line ${'x'.repeat(60)}\\n'); process.stdout.write('${key.slice(0, 10)}'); setTimeout(() => process.stdout.write('${key.slice(10)} done\\n'), 200)`),
          timeoutSeconds: 10,
        },
      ];
    });
    const seen: string[] = [];
    const report = await runGate({ config, treeDir: tree, runner: new HostRunner({ cwd: tree }), secrets: [key], onOutput: (s, t) => seen.push(`${s.name}:${t}`) });
    assert.equal(report.status, 'PASS');
    const text = seen.map((s) => s.slice('fast:'.length)).join('');
    assert.equal(text, `first line ${'x'.repeat(60)}\n[REDACTED] done\n`);
    assert.ok(seen.length >= 2, 'output arrived in more than one piece');
  });

  describe('gate cache', () => {
    const cachedConfig = () =>
      configWith((c) => {
        c.guards = [{ name: 'Welding', command: mark(marker, 'Welding'), timeoutSeconds: 10, kind: 'preflight' }];
        c.gate.stages = ['doctor', 'fast'].map((n) => ({ name: n, command: mark(marker, n), timeoutSeconds: 10 }));
      });

    it('an identical PASS is reused: the commands are skipped and the report says so', async () => {
      const cache = new GateCache(path.join(tree, 'logs', 'autopilot', 'gate_cache'));
      const config = cachedConfig();
      const first = await runGate({ config, treeDir: tree, runner: new HostRunner({ cwd: tree }), cache, runId: '20260101_000000_gate_aaaaaaa' });
      assert.equal(first.status, 'PASS');
      assert.equal(first.cache?.hit, false);
      assert.deepEqual(ran(), ['Welding', 'doctor', 'fast']);

      const second = await runGate({ config, treeDir: tree, runner: new HostRunner({ cwd: tree }), cache, runId: '20260101_000100_gate_aaaaaaa' });
      assert.equal(second.status, 'PASS');
      assert.equal(second.cache?.hit, true);
      assert.equal(second.cache?.sourceRunId, '20260101_000000_gate_aaaaaaa');
      assert.ok(second.stages.every((s) => s.cached), 'every step is marked cached');
      assert.deepEqual(ran(), ['Welding', 'doctor', 'fast'], 'no command ran again');
      assert.match(second.log, /Cache: HIT [0-9a-f]{16} \(PASS reused from run 20260101_000000_gate_aaaaaaa/);
    });

    it('a changed file, a changed command or a disabled cache runs the gate again', async () => {
      const cache = new GateCache(path.join(tmp, 'cache'));
      const config = cachedConfig();
      await runGate({ config, treeDir: tree, runner: new HostRunner({ cwd: tree }), cache });
      fs.appendFileSync(path.join(tree, 'app.js'), '// changed\n');
      const afterEdit = await runGate({ config, treeDir: tree, runner: new HostRunner({ cwd: tree }), cache });
      assert.equal(afterEdit.cache?.hit, false);
      config.gate.stages[1].command = [...config.gate.stages[1].command, '--extra'];
      const afterCmd = await runGate({ config, treeDir: tree, runner: new HostRunner({ cwd: tree }), cache });
      assert.equal(afterCmd.cache?.hit, false);
      config.gate.cache.enabled = false;
      const disabled = await runGate({ config, treeDir: tree, runner: new HostRunner({ cwd: tree }), cache });
      assert.equal(disabled.cache, undefined);
      assert.equal(ran().filter((r) => r === 'doctor').length, 4);
    });

    it('the host runner identity changes when PATH resolves a tool to another program', () => {
      const a = path.join(tmp, 'bin-a');
      const b = path.join(tmp, 'bin-b');
      for (const [dir, body] of [[a, '#!/bin/sh\necho 3.11\n'], [b, '#!/bin/sh\necho 3.12 (newer)\n']] as const) {
        fs.mkdirSync(dir);
        fs.writeFileSync(path.join(dir, 'python3'), body, { mode: 0o755 });
      }
      const first = hostToolchain(['python3'], [a, b].join(path.delimiter));
      assert.match(first, new RegExp(`python3=${a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/python3`));
      assert.notEqual(hostToolchain(['python3'], [b, a].join(path.delimiter)), first);
      assert.match(hostToolchain(['python3'], path.join(tmp, 'nowhere')), /python3 absent/);
    });

    it('keeps only the newest entries', async () => {
      const cache = new GateCache(path.join(tmp, 'cache'), 3);
      const keys = ['a', 'b', 'c', 'd', 'e'].map((c) => c.repeat(64));
      for (const [i, key] of keys.entries()) {
        await cache.put({ key, storedAt: new Date().toISOString(), report: { guards: [], stages: [] } });
        const t = new Date(Date.now() - (10 - i) * 1000);
        fs.utimesSync(path.join(cache.dir, `${key}.json`), t, t);
      }
      assert.deepEqual(keys.map((k) => cache.get(k) !== undefined), [false, false, true, true, true]);
    });

    it('a FAIL is never cached', async () => {
      const cache = new GateCache(path.join(tmp, 'cache'));
      const config = cachedConfig();
      config.gate.stages.push({ name: 'regression', command: nodeE('process.exit(3)'), timeoutSeconds: 10 });
      await runGate({ config, treeDir: tree, runner: new HostRunner({ cwd: tree }), cache });
      const again = await runGate({ config, treeDir: tree, runner: new HostRunner({ cwd: tree }), cache });
      assert.equal(again.cache?.hit, false);
      assert.equal(again.status, 'FAIL');
      assert.equal(fs.existsSync(cache.dir) ? fs.readdirSync(cache.dir).length : 0, 0);
    });

    it('caches written by the gate itself (__pycache__, .pytest_cache) do not change the key', async () => {
      const cache = new GateCache(path.join(tmp, 'cache'));
      const config = cachedConfig();
      await runGate({ config, treeDir: tree, runner: new HostRunner({ cwd: tree }), cache });
      fs.mkdirSync(path.join(tree, '__pycache__'));
      fs.writeFileSync(path.join(tree, '__pycache__', 'x.cpython-311.pyc'), 'x');
      fs.mkdirSync(path.join(tree, '.pytest_cache'));
      const again = await runGate({ config, treeDir: tree, runner: new HostRunner({ cwd: tree }), cache });
      assert.equal(again.cache?.hit, true);
    });
  });
});

describe('worker verdict', () => {
  it('a Worker that reports PASS while a Controller gate stage fails is recorded as FAIL', () => {
    const v = reconcileWorkerStatus('PASS', { status: 'FAIL', failedAt: 'regression' });
    assert.equal(v.status, 'FAIL');
    assert.equal(v.overridden, true);
    assert.match(v.reason!, /regression/);
  });
  it('PASS only when both agree; a Worker FAIL is never upgraded', () => {
    assert.equal(reconcileWorkerStatus('PASS', { status: 'PASS' }).status, 'PASS');
    const v = reconcileWorkerStatus('FAIL', { status: 'PASS' });
    assert.equal(v.status, 'FAIL');
    assert.equal(v.overridden, false);
  });
});
