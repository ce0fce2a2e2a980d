import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { defaultConfig } from '../../../src/core/config/schema';
import { listCycleStates, stateFile, writeCycleState, type CycleState } from '../../../src/core/cycle/cycle-state';
import { stopCycle } from '../../../src/core/cycle/stop';
import { pendingStops, requestStop, stopRequestFile, stopRequestsDir, watchStopRequests } from '../../../src/core/cycle/stop-requests';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const config = defaultConfig();
const ap = config.paths.autopilot;

/** An engine whose containers are labelled with run ids; `removed` lists what stopCycle removed. */
function fakeEngine(byRun: Record<string, number>) {
  const removed: string[] = [];
  const docker = {
    listContainers: (o: { filters: { label: string[] } }) => {
      const run = o.filters.label[0].split('=')[1];
      return Promise.resolve(Array.from({ length: byRun[run] ?? 0 }, (_, i) => ({ Id: `${run}-${i}` })));
    },
    getContainer: (id: string) => ({ remove: () => Promise.resolve(void removed.push(id)) }),
  } as unknown as Docker;
  return { docker, removed };
}

const state = (ticket: string, owner: string, phase: CycleState['phase'] = 'DO'): CycleState => ({
  version: 1,
  runId: `20261206_041500_${ticket.toLowerCase()}_abcdef0`,
  ticketId: ticket,
  acIds: [`${ticket}::AC-1`],
  phase,
  baseCommit: 'abcdef0',
  startedAt: '2026-12-06T04:15:00.000Z',
  owner,
});

describe('factory stop: all cycles in flight or one (stop requests)', function () {
  // A child Controller starts through tsx: slow on a loaded machine.
  this.timeout(120_000);
  let root: string;
  const children: ChildProcess[] = [];
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-stop-'))));
  afterEach(() => {
    children.splice(0).forEach((c) => c.kill('SIGKILL'));
    fs.rmSync(root, { recursive: true, force: true });
  });
  const inFlight = () => listCycleStates(root, ap).map((s) => s.state.ticketId);

  /**
   * A Controller process with two cycles in flight, wired as a parallel run is: a stop request
   * ends that cycle (its state file goes), SIGTERM ends them all and the process.
   */
  async function controller(): Promise<{ child: ChildProcess; a: CycleState; b: CycleState }> {
    const script = `
      const fs = require('node:fs');
      const { watchStopRequests } = require(${JSON.stringify(path.join(ROOT, 'src/core/cycle/stop-requests.ts'))});
      const { listCycleStates } = require(${JSON.stringify(path.join(ROOT, 'src/core/cycle/cycle-state.ts'))});
      const [root, ap] = [${JSON.stringify(root)}, ${JSON.stringify(ap)}];
      const ac = new AbortController();
      watchStopRequests(root, ap, (runId) => {
        const s = listCycleStates(root, ap).find((x) => x.state.runId === runId);
        if (!s) return false;
        fs.rmSync(s.file);
        return true;
      }, ac.signal, { intervalMs: 50 });
      process.on('SIGTERM', () => { for (const s of listCycleStates(root, ap)) fs.rmSync(s.file); ac.abort(); process.exit(0); });
      setInterval(() => {}, 1000);
      process.stdout.write('ready\\n');`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => c.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`controller exited early (${code})`)));
    });
    const owner = `${os.hostname()}:${child.pid}`;
    const a = state('D101', owner);
    const b = state('D102', owner, 'CHECK');
    await writeCycleState(stateFile(root, ap, 0), a);
    await writeCycleState(stateFile(root, ap, 1), b);
    return { child, a, b };
  }

  it('--run stops that cycle only (a request its Controller takes and removes); the default stops all by SIGTERM', async () => {
    const { child, b } = await controller();
    const engine = fakeEngine({ [b.runId]: 2 });
    const one = await stopCycle(root, config, { runId: b.runId, waitMs: 30_000, docker: engine.docker });
    assert.deepEqual(one.cycles.map((c) => [c.ticketId, c.slot, c.requested, c.finished]), [['D102', 1, true, true]]);
    assert.equal(one.signalled, false, 'one cycle of several: no signal to the process');
    assert.equal(one.finished, true);
    assert.deepEqual(inFlight(), ['D101'], 'the other cycle goes on');
    assert.equal(child.exitCode, null, 'the Controller lives');
    assert.deepEqual(pendingStops(root, ap), [], 'the handled request is removed');
    assert.deepEqual(engine.removed, [], 'a finished cycle leaves nothing to remove');

    const exited = new Promise((r) => child.once('exit', r));
    const rest = await stopCycle(root, config, { waitMs: 30_000, docker: engine.docker });
    assert.deepEqual(rest.cycles.map((c) => [c.ticketId, c.requested, c.finished]), [['D101', false, true]]);
    assert.equal(rest.signalled, true);
    await exited;
    assert.deepEqual(inFlight(), []);
  });

  it('--ticket selects by ticket, and the last cycle of a watching Controller is stopped by request too: the run goes on', async () => {
    const { child, a } = await controller();
    const none = await stopCycle(root, config, { ticketId: 'D999', waitMs: 1_000 });
    assert.deepEqual([none.runId, none.cycles, none.signalled], [null, [], false], 'nothing matches: nothing is stopped');
    assert.deepEqual(inFlight(), ['D101', 'D102']);
    const byTicket = await stopCycle(root, config, { ticketId: 'D101', waitMs: 30_000 });
    assert.equal(byTicket.runId, a.runId);
    assert.equal(byTicket.signalled, false);
    assert.deepEqual(inFlight(), ['D102']);
    const last = await stopCycle(root, config, { ticketId: 'D102', waitMs: 30_000 });
    assert.deepEqual([last.signalled, last.finished, last.cycles[0]?.requested], [false, true, true]);
    assert.equal(child.exitCode, null, 'the run lives on (its next cycles)');
  });

  it('a Controller that does not watch stop requests (a lone runCycle) gets SIGTERM when every cycle it runs is selected', async () => {
    const script = `const fs = require('node:fs');
      process.on('SIGTERM', () => { fs.rmSync(${JSON.stringify(stateFile(root, ap, 0))}, { force: true }); process.exit(0); });
      setInterval(() => {}, 1000); process.stdout.write('ready\\n');`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    await new Promise<void>((resolve) => child.stdout.on('data', () => resolve()));
    const lone = state('D101', `${os.hostname()}:${child.pid}`);
    await writeCycleState(stateFile(root, ap, 0), lone);
    const exited = new Promise((r) => child.once('exit', r));
    const out = await stopCycle(root, config, { runId: lone.runId, waitMs: 30_000, pickupMs: 300 });
    assert.deepEqual([out.signalled, out.finished, out.cycles[0]?.requested], [true, true, false]);
    assert.deepEqual(pendingStops(root, ap), [], 'the request nobody took is withdrawn');
    await exited;
  });

  it('a dead Controller\'s cycles: no waiting, their containers are removed, no request is left behind', async () => {
    const dead = `${os.hostname()}:999999`;
    const a = state('D101', dead);
    const b = state('D102', dead);
    await writeCycleState(stateFile(root, ap, 0), a);
    await writeCycleState(stateFile(root, ap, 2), b);
    const engine = fakeEngine({ [a.runId]: 1, [b.runId]: 2 });
    const t0 = Date.now();
    const one = await stopCycle(root, config, { runId: b.runId, waitMs: 20_000, docker: engine.docker });
    assert.ok(Date.now() - t0 < 5_000, 'nobody to wait for');
    assert.deepEqual(one.cycles.map((c) => [c.ticketId, c.finished, c.containersRemoved]), [['D102', false, 2]]);
    assert.deepEqual(engine.removed.sort(), [`${b.runId}-0`, `${b.runId}-1`], 'only that run\'s containers');
    assert.deepEqual(pendingStops(root, ap), []);
    const all = await stopCycle(root, config, { waitMs: 20_000, docker: engine.docker });
    assert.deepEqual(all.cycles.map((c) => c.ticketId), ['D101', 'D102']);
    assert.equal(all.containersRemoved, 3);
    assert.deepEqual(inFlight(), ['D101', 'D102'], 'the next start records them ABORTED');
  });

  it('a cycle of this very process: a request its own watcher handles; its containers are not pre-empted', async () => {
    const mine = state('D101', `${os.hostname()}:${process.pid}`);
    await writeCycleState(stateFile(root, ap, 3), mine);
    const ac = new AbortController();
    const seen: string[] = [];
    watchStopRequests(root, ap, (runId) => {
      seen.push(runId);
      return runId === mine.runId;
    }, ac.signal, { intervalMs: 30 });
    try {
      const engine = fakeEngine({ [mine.runId]: 1 });
      const out = await stopCycle(root, config, { runId: mine.runId, waitMs: 0, docker: engine.docker });
      assert.deepEqual(out.cycles.map((c) => [c.requested, c.containersRemoved]), [[true, 0]]);
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline && pendingStops(root, ap).length) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(seen, [mine.runId], 'handled once');
      assert.deepEqual(pendingStops(root, ap), []);
    } finally {
      ac.abort();
    }
  });

  it('the watcher leaves a request for a run it does not run until it is old, and never reads a foreign name as a run id', async () => {
    await requestStop(root, ap, '20261206_000000_x_abc');
    fs.writeFileSync(path.join(stopRequestsDir(root, ap), '.20261206.tmp'), '');
    // An atomic write's temp file is a valid run id too, but it does not name itself.
    fs.writeFileSync(path.join(stopRequestsDir(root, ap), '20261206_000000_x_abc.1f2e3d4c'), JSON.stringify({ runId: '20261206_000000_x_abc' }));
    assert.throws(() => stopRequestFile(root, ap, '../cycle_state.json'), /not a run id/);
    const ac = new AbortController();
    const seen: string[] = [];
    watchStopRequests(root, ap, (runId) => void seen.push(runId), ac.signal, { intervalMs: 30, unknownTtlMs: 1_500 });
    try {
      // The watcher's first scan is synchronous: it has seen the request and left it.
      assert.deepEqual(seen, ['20261206_000000_x_abc']);
      assert.deepEqual(pendingStops(root, ap), ['20261206_000000_x_abc'], 'not ours (yet): kept');
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && pendingStops(root, ap).length) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(pendingStops(root, ap), [], 'removed once older than the TTL');
      assert.ok(seen.every((r) => r === '20261206_000000_x_abc'));
    } finally {
      ac.abort();
    }
  });
});
