import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultConfig } from '../../../src/core/config/schema';
import { planSchema } from '../../../src/core/contracts/plan';
import { prepareWorkerLaunch, type WorkerLaunch } from '../../../src/core/sandbox/worker-launch';
import { workerIdentity } from '../../../src/core/sandbox/staging';

describe('cycle worker launch', () => {
  let tmp: string;
  let launch: WorkerLaunch | undefined;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-launch-test-'));
  });
  afterEach(async () => {
    await launch?.dispose();
    launch = undefined;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** A replay Worker's launch for run `runId` (the runtime is a stand-in: only copied, never run here). */
  async function launchFor(runId: string, over: { planModel?: string; model?: string; agentModel?: string } = {}): Promise<WorkerLaunch> {
    const runtime = path.join(tmp, 'worker.js');
    const replay = path.join(tmp, 'T-1.json');
    fs.writeFileSync(runtime, '// runtime stand-in\n');
    fs.writeFileSync(replay, '{"steps":[]}\n');
    const plan = planSchema.parse({
      schema_version: 1, run_id: runId, ticket_id: 'T-1', ac_ids: ['T-1::AC-1'],
      scope: { modify: ['src/**'] }, timeout_minutes: 1, model_budget: 'standard', risk_level: 'MED',
      agent: 'replay', created_at: new Date().toISOString(), ...(over.planModel ? { model: over.planModel } : {}),
    });
    const config = defaultConfig();
    if (over.agentModel) config.agents = { ...config.agents, replay: { ...config.agents.replay, args: [], model: over.agentModel } };
    return prepareWorkerLaunch({ plan, config, acs: [], rules: '', replayFile: replay, runtimeFile: runtime, ...(over.model ? { model: over.model } : {}) });
  }

  /** The agent section of the launch's worker-task.json. */
  function taskAgent(l: WorkerLaunch): { name: string; model?: string } {
    const dir = l.mounts.find((m) => fs.existsSync(path.join(m.hostPath, 'worker-task.json')));
    assert.ok(dir, 'a mount holds worker-task.json');
    return (JSON.parse(fs.readFileSync(path.join(dir.hostPath, 'worker-task.json'), 'utf8')) as { agent: { name: string; model?: string } }).agent;
  }

  it("the agent runs the plan's routed model; an explicit model (the Auditor's) wins; else the agent's configured one", async () => {
    launch = await launchFor('m1', { planModel: 'gpt-5-mini', agentModel: 'configured-model' });
    assert.equal(taskAgent(launch).model, 'gpt-5-mini', "plan.model over agents.<agent>.model");
    await launch.dispose();
    launch = await launchFor('m2', { planModel: 'gpt-5-mini', model: 'claude-opus-4-5' });
    assert.equal(taskAgent(launch).model, 'claude-opus-4-5', 'the request\'s model over plan.model');
    await launch.dispose();
    launch = await launchFor('m3', { agentModel: 'configured-model' });
    assert.equal(taskAgent(launch).model, 'configured-model', 'no routed model: the configured one, as before');
    await launch.dispose();
    launch = await launchFor('m4');
    assert.equal(taskAgent(launch).model, undefined, 'none at all: the agent\'s own default');
  });

  it('SEC-24 the gateway socket and the agent output folder belong to the Worker user only', async function () {
    launch = await launchFor('r1');
    const gatewayDir = launch.mounts.find((m) => fs.existsSync(path.join(m.hostPath, 'gateway.sock')));
    assert.ok(gatewayDir, `a mount holds the gateway socket: ${JSON.stringify(launch.mounts)}`);
    assert.equal(gatewayDir.readOnly, true);
    const sock = fs.statSync(path.join(gatewayDir.hostPath, 'gateway.sock'));
    const out = launch.mounts.find((m) => !m.readOnly);
    assert.ok(out, 'a writable mount for the agent output');
    const outStat = fs.statSync(out.hostPath);
    const { uid } = workerIdentity();
    if (process.getuid?.() === 0) {
      assert.equal(sock.mode & 0o777, 0o600, 'socket mode');
      assert.equal(sock.uid, uid, 'socket owner');
      assert.equal(outStat.mode & 0o777, 0o700, 'agent output mode');
      assert.equal(outStat.uid, uid, 'agent output owner');
    } else {
      // Without root the socket can only be restricted when we are the Worker's uid ourselves.
      if (process.getuid?.() !== uid) this.skip();
      assert.equal(sock.mode & 0o077, 0, 'socket not reachable by group/others');
    }
  });

  it('a FAILed cycle keeps the agent output: regular files only, each capped, never a link the Worker planted', async () => {
    launch = await launchFor('r2');
    const out = launch.mounts.find((m) => !m.readOnly)!.hostPath;
    const secret = path.join(tmp, 'host-secret');
    fs.writeFileSync(secret, 'do not copy');
    fs.writeFileSync(path.join(out, 'agent.log'), 'the agent said this\n');
    fs.writeFileSync(path.join(out, 'big.log'), Buffer.alloc(6 * 1024 * 1024, 0x61));
    fs.symlinkSync(secret, path.join(out, 'evil.log'));
    fs.mkdirSync(path.join(out, 'sub'));
    const dest = path.join(tmp, 'kept', 'agent');
    launch.keepOutput(dest);
    assert.deepEqual(fs.readdirSync(dest).sort(), ['agent.log', 'big.log']);
    assert.equal(fs.readFileSync(path.join(dest, 'agent.log'), 'utf8'), 'the agent said this\n');
    const big = fs.readFileSync(path.join(dest, 'big.log'), 'utf8');
    assert.ok(big.length < 5 * 1024 * 1024 + 200 && /\[cut: 6291456 bytes, the first 5242880 kept\]/.test(big));
  });
});
