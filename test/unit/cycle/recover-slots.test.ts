import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { defaultConfig } from '../../../src/core/config/schema';
import { listCycleStates, stateFile, writeCycleState, type CycleState } from '../../../src/core/cycle/cycle-state';
import { markInProgress } from '../../../src/core/cycle/in-progress';
import { recoverInterrupted } from '../../../src/core/cycle/recover';
import { readHistory } from '../../../src/core/history/history';

const LEDGER = [
  '| AC_ID | TITLE | STAGE | STATUS | CANONICAL_EVIDENCE | LAST_COMMIT |',
  '|---|---|---|---|---|---|',
  '| D101::AC-1 | a | D101 | OPEN | NONE | UNKNOWN |',
  '| D101::AC-2 | b | D101 | PARTIAL | NONE | UNKNOWN |',
  '| D102::AC-1 | c | D102 | OPEN | NONE | UNKNOWN |',
  '| D103::AC-1 | d | D103 |  **OPEN**  | NONE | UNKNOWN |',
  '',
].join('\n');

/** An engine with no containers: recovery's reaper finds nothing to remove. */
const noContainers = { listContainers: () => Promise.resolve([]) } as unknown as Docker;

/**
 * A parallel run (several slots in flight) killed at once: recovery finishes or aborts every slot's
 * cycle, each exactly as a serial cycle is, and each restores only its own AC cells.
 */
describe('recovery of every cycle in flight (parallel slots)', () => {
  const config = defaultConfig();
  const ap = config.paths.autopilot;
  let root: string;
  let base: string;
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  const ledgerFile = () => path.join(root, config.ssot.ledger);
  const ledger = () => fs.readFileSync(ledgerFile(), 'utf8');
  const history = () => readHistory(path.join(root, ap, 'history.jsonl'));
  const state = (ticket: string, phase: CycleState['phase'], extra: Partial<CycleState> = {}): CycleState => ({
    version: 1,
    runId: `20261206_040000_${ticket.toLowerCase()}_abcdef0`,
    ticketId: ticket,
    acIds: [`${ticket}::AC-1`],
    phase,
    baseCommit: base,
    startedAt: '2026-12-06T04:00:00.000Z',
    owner: `${os.hostname()}:999999`,
    ...extra,
  });

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-recover-slots-'));
    git('init', '-q', '-b', 'main');
    git('config', 'user.email', 't@example.invalid');
    git('config', 'user.name', 't');
    fs.mkdirSync(path.dirname(ledgerFile()), { recursive: true });
    fs.writeFileSync(ledgerFile(), LEDGER);
    fs.writeFileSync(path.join(root, 'app.txt'), 'base\n');
    git('add', '-A');
    git('commit', '-q', '-m', 'base');
    base = git('rev-parse', 'HEAD');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  /** Three cycles marked their ACs; slot 1 then began ADJUST (backups taken, its change and DONE written). */
  async function crashWithThreeSlots(): Promise<CycleState[]> {
    const d101 = state('D101', 'DO', { acIds: ['D101::AC-1', 'D101::AC-2'] });
    const d102 = state('D102', 'ADJUST');
    const d103 = state('D103', 'CHECK');
    for (const s of [d101, d102, d103]) s.acStatusBefore = await markInProgress(root, config, s.acIds);
    const backupDir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-adjust-backup-'));
    const backup = path.join(backupDir, 'ledger');
    fs.copyFileSync(ledgerFile(), backup);
    Object.assign(d102, { backupDir, backups: { [config.ssot.ledger]: backup }, changes: [{ path: 'app.txt', kind: 'modified' }, { path: 'new.txt', kind: 'added' }] });
    fs.writeFileSync(path.join(root, 'app.txt'), 'changed by D102\n');
    fs.writeFileSync(path.join(root, 'new.txt'), 'added by D102\n');
    fs.writeFileSync(ledgerFile(), ledger().replace(/(\| D102::AC-1 \| c \| D102 \| )IN_PROGRESS/, '$1DONE'));
    await writeCycleState(stateFile(root, ap, 0), d101);
    await writeCycleState(stateFile(root, ap, 1), d102);
    await writeCycleState(stateFile(root, ap, 3), d103);
    return [d101, d102, d103];
  }

  it('aborts every slot once, rolls back the one in ADJUST, and puts the ledger back byte for byte', async () => {
    const [d101, d102, d103] = await crashWithThreeSlots();
    assert.notEqual(ledger(), LEDGER);
    const r = await recoverInterrupted({ root, config, docker: noContainers });
    assert.deepEqual(r.cycles.map((c) => [c.runId, c.phase, c.result]), [
      [d102.runId, 'ADJUST', 'aborted'],
      [d101.runId, 'DO', 'aborted'],
      [d103.runId, 'CHECK', 'aborted'],
    ], 'the ADJUST slot first, then the others in slot order');
    assert.deepEqual(r.interrupted, { runId: d101.runId, ticketId: 'D101', phase: 'DO' }, 'interrupted: the first slot');
    assert.equal(r.result, 'aborted');
    assert.equal(r.actions.length, 3, r.actions.join('\n'));
    assert.match(r.actions[0], new RegExp(`run ${d102.runId} was interrupted in ADJUST: 2 changed path`));
    assert.equal(ledger(), LEDGER, 'every slot restored its own cells: the ledger is the one before the run, byte for byte');
    assert.equal(fs.readFileSync(path.join(root, 'app.txt'), 'utf8'), 'base\n');
    assert.equal(fs.existsSync(path.join(root, 'new.txt')), false);
    assert.equal(fs.existsSync(d102.backupDir!), false, 'the ADJUST backups are removed');
    assert.equal(git('status', '--porcelain', '--', 'app.txt', 'new.txt', config.ssot.ledger), '');
    assert.deepEqual(listCycleStates(root, ap), [], 'no slot file is left');
    const lines = history().records;
    assert.deepEqual(lines.map((l) => [l.runId, l.status]).sort(), [d101, d102, d103].map((s) => [s.runId, 'ABORTED']).sort(), 'one ABORTED line per cycle');
    for (const s of [d101, d102, d103]) assert.equal(lines.find((l) => l.runId === s.runId)?.reason, `Controller stopped during ${s.phase}`);

    const again = await recoverInterrupted({ root, config, docker: noContainers });
    assert.deepEqual([again.cycles, again.actions, again.interrupted, again.result], [[], [], null, 'none'], 'a second start finds nothing');
    assert.equal(history().records.length, 3, 'nothing is recorded twice');
  });

  it('completes the slot whose ADJUST was committed and aborts only the others, each restoring its own cells', async () => {
    const d101 = state('D101', 'PLAN', { acIds: ['D101::AC-1', 'D101::AC-2'] });
    const d102 = state('D102', 'ADJUST');
    const d103 = state('D103', 'DO');
    for (const s of [d101, d103]) s.acStatusBefore = await markInProgress(root, config, s.acIds);
    const marked = ledger();
    // D102's ADJUST wrote DONE and committed; the Controller died before it cleared its state file.
    fs.writeFileSync(ledgerFile(), marked.replace(/(\| D102::AC-1 \| c \| D102 \| )OPEN/, '$1DONE'));
    git('add', config.ssot.ledger);
    git('commit', '-q', '-m', `factory: D102 PASS\n\nFactory-Run: ${d102.runId}`);
    await writeCycleState(stateFile(root, ap, 0), d101);
    await writeCycleState(stateFile(root, ap, 2), d102);
    await writeCycleState(stateFile(root, ap, 5), d103);
    const r = await recoverInterrupted({ root, config, docker: noContainers });
    assert.deepEqual(r.cycles.map((c) => [c.ticketId, c.result]), [['D102', 'completed'], ['D101', 'aborted'], ['D103', 'aborted']]);
    assert.equal(r.result, 'aborted', 'the first slot (D101) was aborted');
    assert.equal(ledger(), LEDGER.replace(/(\| D102::AC-1 \| c \| D102 \| )OPEN/, '$1DONE'), 'D102 stays DONE; D101 and D103 read as before their marking');
    assert.deepEqual(history().records.map((l) => l.ticketId).sort(), ['D101', 'D103'], 'the committed cycle is not recorded ABORTED');
    assert.deepEqual(listCycleStates(root, ap), []);
  });
});
