import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultConfig } from '../../../../src/core/config/schema';
import type { Plan } from '../../../../src/core/contracts/plan';
import { withoutOwnMarks } from '../../../../src/core/cycle/clean-start';
import { cyclePaths } from '../../../../src/core/cycle/cycle-paths';
import { stateFile, writeCycleState, type CycleState } from '../../../../src/core/cycle/cycle-state';
import { markInProgress } from '../../../../src/core/cycle/in-progress';
import { withOthersUnmarked } from '../../../../src/core/cycle/parallel/run-factory';

const LEDGER = [
  'queue_policy: SEQUENTIAL_QUEUE',
  '| AC_ID | TITLE | STAGE | STATUS | CANONICAL_EVIDENCE | LAST_COMMIT |',
  '|---|---|---|---|---|---|',
  '| A1::AC-1 | a | A1 | OPEN | NONE | UNKNOWN |',
  '| B1::AC-1 | b | B1 | PARTIAL | NONE | UNKNOWN |',
  '| B1::AC-2 | b2 | B1 | OPEN | NONE | UNKNOWN |',
  '| C1::AC-1 | c | C1 | OPEN | NONE | UNKNOWN |',
  '',
].join('\n');

const git = (root: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@l', '-C', root, ...args], { encoding: 'utf8' }).trim();

describe('a parallel run’s own IN_PROGRESS marks (clean start, ADJUST commits)', () => {
  const config = defaultConfig();
  let root: string;
  let ledger: string;
  let head: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-ownmarks-'));
    ledger = path.join(root, config.ssot.ledger);
    fs.mkdirSync(path.dirname(ledger), { recursive: true });
    fs.writeFileSync(ledger, LEDGER);
    git(root, 'init', '-q');
    git(root, 'add', '-A');
    git(root, 'commit', '-qm', 'init');
    head = git(root, 'rev-parse', 'HEAD');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const statusOf = (id: string) => fs.readFileSync(ledger, 'utf8').split('\n').find((l) => l.startsWith(`| ${id} `))?.split('|')[4]?.trim();

  it('the clean start leaves out the ledger only when it is HEAD’s ledger plus the marks of the cycles in flight', async () => {
    await markInProgress(root, config, ['B1::AC-1', 'B1::AC-2']);
    const changed = [config.ssot.ledger, 'src/other.py'];
    assert.deepEqual(await withoutOwnMarks(root, config.ssot.ledger, changed, head, ['B1::AC-1', 'B1::AC-2']), ['src/other.py']);
    // Not the marks of a cycle in flight (none, or another AC): the ledger still counts as dirty.
    assert.deepEqual(await withoutOwnMarks(root, config.ssot.ledger, changed, head, []), changed);
    assert.deepEqual(await withoutOwnMarks(root, config.ssot.ledger, changed, head, ['B1::AC-1']), changed);
    // A person's edit beside the marks: refused as usual.
    fs.writeFileSync(ledger, fs.readFileSync(ledger, 'utf8').replace('| c |', '| c edited |'));
    assert.deepEqual(await withoutOwnMarks(root, config.ssot.ledger, changed, head, ['B1::AC-1', 'B1::AC-2']), changed);
  });

  it('ADJUST of one cycle sees the other cycles’ cells as before their marks, and they are marked again after (also when ADJUST fails)', async () => {
    const paths = cyclePaths(root, config);
    const mine = await markInProgress(root, config, ['A1::AC-1']);
    const theirs = await markInProgress(root, config, ['B1::AC-1', 'B1::AC-2']);
    const state = (runId: string, acStatusBefore: Record<string, string>): CycleState => ({ version: 1, runId, ticketId: runId, acIds: Object.keys(acStatusBefore), phase: 'DO', baseCommit: head, startedAt: new Date().toISOString(), owner: 'h:1', acStatusBefore });
    await writeCycleState(stateFile(root, config.paths.autopilot, 0), state('run_a', mine));
    await writeCycleState(stateFile(root, config.paths.autopilot, 1), state('run_b', theirs));
    const ctx = { root, config, runId: 'run_a' };
    const plan = { run_id: 'run_a', ticket_id: 'A1' } as unknown as Plan;
    fs.mkdirSync(paths.autopilot, { recursive: true });
    fs.writeFileSync(paths.plan, '{"run_id":"run_b"}\n');

    const seen = await withOthersUnmarked(ctx, plan, async () => [statusOf('A1::AC-1'), statusOf('B1::AC-1'), statusOf('B1::AC-2'), JSON.parse(fs.readFileSync(paths.plan, 'utf8')).run_id]);
    assert.deepEqual(seen, ['IN_PROGRESS', 'PARTIAL', 'OPEN', 'run_a'], 'my mark stays, theirs lifted, plan.json is mine');
    assert.deepEqual([statusOf('B1::AC-1'), statusOf('B1::AC-2')], ['IN_PROGRESS', 'IN_PROGRESS'], 'theirs marked again');

    await assert.rejects(withOthersUnmarked(ctx, plan, () => Promise.reject(new Error('ADJUST failed'))), /ADJUST failed/);
    assert.deepEqual([statusOf('B1::AC-1'), statusOf('B1::AC-2')], ['IN_PROGRESS', 'IN_PROGRESS']);
    assert.equal(statusOf('C1::AC-1'), 'OPEN');
    // A cycle whose ADJUST has settled (its state file lingers until it ends) is no longer touched.
    const lingering = await withOthersUnmarked(ctx, undefined, async () => statusOf('B1::AC-1'), new Set(['run_b']));
    assert.equal(lingering, 'IN_PROGRESS');
  });
});
