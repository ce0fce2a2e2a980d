import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultConfig } from '../../../src/core/config/schema';
import type { CycleContext } from '../../../src/core/cycle/cycle-context';
import { readCycleState, type CycleState } from '../../../src/core/cycle/cycle-state';
import { markCycleInProgress, markInProgress, restoreCycleStatuses, restoreStatuses } from '../../../src/core/cycle/in-progress';

const LEDGER = [
  '\ufeffqueue_policy: SEQUENTIAL_QUEUE',
  '| AC_ID | TITLE | STAGE | STATUS | CANONICAL_EVIDENCE | LAST_COMMIT |',
  '|---|---|---|---|---|---|',
  '| D101::AC-1 | first | D101 | DONE | logs/evidence/x/ | abc1234 |',
  '| D101::AC-2 | second | D101 |   **OPEN**   | NONE | UNKNOWN |',
  '| D101::AC-3 | third | D101 | PARTIAL | NONE | UNKNOWN |',
  '| D101::AC-4 | fourth | D101 | IN_PROGRESS | NONE | UNKNOWN |',
  '| D102::AC-1 | other | D102 | 진행 전 | NONE | UNKNOWN |',
  '',
].join('\r\n');

describe('IN_PROGRESS marking of a cycle’s ACs (spec §8-3)', () => {
  const config = defaultConfig();
  let root: string;
  let ledger: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-inprog-'));
    ledger = path.join(root, config.ssot.ledger);
    fs.mkdirSync(path.dirname(ledger), { recursive: true });
    fs.writeFileSync(ledger, LEDGER);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const statusOf = (id: string) => fs.readFileSync(ledger, 'utf8').split('\r\n').find((l) => l.startsWith(`| ${id} `))?.split('|')[4]?.trim();

  it('marks the ACs IN_PROGRESS cell by cell and returns the previous cells as written', async () => {
    const previous = await markInProgress(root, config, ['D101::AC-2', 'D101::AC-3', 'D101::AC-4', 'NOPE::AC-9']);
    assert.deepEqual(previous, { 'D101::AC-2': '**OPEN**', 'D101::AC-3': 'PARTIAL' });
    assert.equal(statusOf('D101::AC-2'), 'IN_PROGRESS');
    assert.equal(statusOf('D101::AC-3'), 'IN_PROGRESS');
    assert.equal(statusOf('D101::AC-1'), 'DONE');
    const lines = fs.readFileSync(ledger, 'utf8').split('\r\n');
    assert.equal(lines.length, LEDGER.split('\r\n').length, 'no row added or removed, CRLF kept');
  });

  it('restores the ledger byte for byte, and is idempotent', async () => {
    const previous = await markInProgress(root, config, ['D101::AC-2', 'D101::AC-3', 'D102::AC-1']);
    assert.notEqual(fs.readFileSync(ledger, 'utf8'), LEDGER);
    await restoreStatuses(root, config, previous);
    assert.equal(fs.readFileSync(ledger, 'utf8'), LEDGER);
    await restoreStatuses(root, config, previous);
    assert.equal(fs.readFileSync(ledger, 'utf8'), LEDGER);
  });

  it('never overwrites a status set since the marking (ADJUST’s DONE, a person’s edit)', async () => {
    const previous = await markInProgress(root, config, ['D101::AC-2', 'D101::AC-3']);
    fs.writeFileSync(ledger, fs.readFileSync(ledger, 'utf8').replace(/(\| D101::AC-2 \| second \| D101 \| +)IN_PROGRESS/, '$1DONE'));
    await restoreStatuses(root, config, previous);
    assert.equal(statusOf('D101::AC-2'), 'DONE');
    assert.equal(statusOf('D101::AC-3'), 'PARTIAL');
  });

  it('hands the previous cells to the caller before the ledger changes; nothing to mark writes nothing', async () => {
    let seenBefore: string | undefined;
    await markInProgress(root, config, ['D101::AC-3'], async () => {
      seenBefore = fs.readFileSync(ledger, 'utf8');
    });
    assert.equal(seenBefore, LEDGER);
    const mtime = fs.statSync(ledger).mtimeMs;
    assert.deepEqual(await markInProgress(root, config, ['D101::AC-1', 'D101::AC-4']), {});
    assert.equal(fs.statSync(ledger).mtimeMs, mtime);
    assert.deepEqual(await markInProgress(fs.mkdtempSync(path.join(os.tmpdir(), 'factory-noledger-')), config, ['D101::AC-2']), {});
  });

  it('the cycle keeps the previous cells in cycle_state.json before marking, and restores from them', async () => {
    const stateFile = path.join(root, 'logs/autopilot/cycle_state.json');
    const state: CycleState = { version: 1, runId: 'r1', ticketId: 'D101', acIds: ['D101::AC-2', 'D101::AC-3'], phase: 'PLAN', baseCommit: 'abc', startedAt: new Date().toISOString(), owner: 'h:1' };
    const ctx = { root, config, paths: { state: stateFile }, statePath: stateFile, state } as unknown as CycleContext;
    await markCycleInProgress(ctx);
    assert.deepEqual(readCycleState(stateFile)?.acStatusBefore, { 'D101::AC-2': '**OPEN**', 'D101::AC-3': 'PARTIAL' });
    assert.equal(statusOf('D101::AC-3'), 'IN_PROGRESS');
    await restoreCycleStatuses(ctx);
    assert.equal(fs.readFileSync(ledger, 'utf8'), LEDGER);
  });
});
