import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultConfig } from '../../../src/core/config/schema';
import { explainLocked, takeCycleLock } from '../../../src/core/cycle/cycle-lock';
import { stateFile, writeCycleState, type CycleState } from '../../../src/core/cycle/cycle-state';
import { pendingStops, requestStop } from '../../../src/core/cycle/stop-requests';
import { FactoryError } from '../../../src/core/util/errors';
import { nullLogger } from '../../../src/core/util/log';

const state = (ticket: string, phase: CycleState['phase'], owner: string): CycleState => ({
  version: 1,
  runId: `20261206_045000_${ticket.toLowerCase()}_abcdef0`,
  ticketId: ticket,
  acIds: [],
  phase,
  baseCommit: 'abc',
  startedAt: '2026-12-06T04:50:00.000Z',
  owner,
});

describe('cycle lock (takeCycleLock, explainLocked)', () => {
  const config = defaultConfig();
  const ap = config.paths.autopilot;
  let repo: string;
  beforeEach(() => {
    repo = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-cycle-lock-'));
    fs.mkdirSync(path.join(repo, '.git'));
  });
  afterEach(() => fs.rmSync(repo, { recursive: true, force: true }));
  const locked = new FactoryError('another Controller is running a cycle on /r (lock /r/.git/factory-cycle.lock); try again when it finishes', 'locked');

  it('names every cycle a live Controller of this host runs; says a dead one\'s lock goes stale; leaves another host\'s refusal as it is', () => {
    const live = `${os.hostname()}:${process.pid}`;
    const e1 = explainLocked(locked, [state('D101', 'DO', live), state('D102', 'CHECK', live)], 30_000) as FactoryError;
    assert.equal(e1.code, 'locked');
    assert.match(e1.message, new RegExp(`\\(pid ${process.pid}, run 20261206_045000_d101_abcdef0 in DO, run 20261206_045000_d102_abcdef0 in CHECK\\)$`));
    const dead = `${os.hostname()}:999999`;
    const e2 = explainLocked(locked, [state('D101', 'ADJUST', dead), state('D103', 'PLAN', dead)], 12_000) as FactoryError;
    assert.match(e2.message, /^the Controller \(pid 999999\) stopped with run \S+ in ADJUST, run \S+ in PLAN; its repo lock goes stale within 12 s/);
    assert.equal(explainLocked(locked, [state('D101', 'DO', 'elsewhere:1')], 30_000), locked);
    assert.equal(explainLocked(locked, [], 30_000), locked);
  });

  it('takes the lock, removes the stop requests nobody took, and a second Controller is refused with the runs in flight', async () => {
    await requestStop(repo, ap, '20261206_000000_old_abc');
    const lock = await takeCycleLock(repo, config, {}, nullLogger);
    try {
      assert.deepEqual(pendingStops(repo, ap), []);
      await writeCycleState(stateFile(repo, ap, 2), state('D104', 'DO', `${os.hostname()}:${process.pid}`));
      await assert.rejects(takeCycleLock(repo, config, {}, nullLogger), (err: FactoryError) => err.code === 'locked' && /run 20261206_045000_d104_abcdef0 in DO/.test(err.message));
    } finally {
      await lock.release();
    }
  });
});
