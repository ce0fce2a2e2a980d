import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfigStrict } from '../../../src/core/config/load';
import type { FactoryConfig } from '../../../src/core/config/schema';
import { appendHistory } from '../../../src/core/history/history';
import type { CycleContext } from '../../../src/core/cycle/cycle-context';
import { cyclePaths } from '../../../src/core/cycle/cycle-paths';
import type { BaselineReport } from '../../../src/core/cycle/cycle-types';
import { docOpsOnAdjusted, failedAdjustVerdict } from '../../../src/core/cycle/phases/adjust-docops';
import { nullLogger } from '../../../src/core/util/log';

const EXAMPLE = path.resolve(__dirname, '..', '..', '..', 'examples', 'demo-project');
const git = (repo: string, ...args: string[]) => execFileSync('git', ['-c', 'core.hooksPath=/dev/null', '-c', 'user.name=T', '-c', 'user.email=t@localhost', '-C', repo, ...args], { encoding: 'utf8' });

/** The example as a committed repository (the SSOT Docs guard compares with HEAD), its token rule forbidding DO-NOT-SHIP. */
async function exampleContext(): Promise<{ root: string; ctx: CycleContext; config: FactoryConfig }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-adjust-docops-'));
  fs.cpSync(EXAMPLE, root, { recursive: true, filter: (src) => !src.startsWith(path.join(EXAMPLE, 'replays')) });
  git(root, 'init', '-q');
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'example');
  const { config } = await loadConfigStrict(root);
  config.docops = { ...config.docops, forbiddenTokens: ['DO-NOT-SHIP'], strict: true };
  const ctx = { root, config, paths: cyclePaths(root, config), log: nullLogger, signal: undefined, state: { runId: RUN } } as unknown as CycleContext;
  return { root, ctx, config };
}

const RUN = '20261206_010000_d201_abcdef0';
const redBaseline = (accepted: boolean): BaselineReport => ({ commit: 'c', tree: 't', status: 'red', failing: [{ kind: 'docops', name: 'DocOps Token' }], accepted, cached: false, durationMs: 1 });

describe('DocOps on the adjusted documents (ADJUST, spec §8-3)', () => {
  let root = '';
  afterEach(() => root && fs.rmSync(root, { recursive: true, force: true }));

  it('PASS on the example as shipped; every guard of `factory docops` ran', async () => {
    const t = await exampleContext();
    root = t.root;
    const r = await docOpsOnAdjusted(t.ctx, undefined);
    assert.equal(r.status, 'PASS', r.reason);
    assert.deepEqual(r.report.guards.map((g) => g.name), ['SSOT Docs', 'DocOps Token']);
    assert.equal(r.reason, undefined);
    assert.ok(r.durationMs >= 0);
  });

  it('FAIL names the guard and each finding as file:line message; more than five findings are counted, not quoted', async () => {
    const t = await exampleContext();
    root = t.root;
    fs.writeFileSync(path.join(root, 'docs/notes.md'), ['# Notes', ...Array.from({ length: 7 }, (_, i) => `line ${i} DO-NOT-SHIP`)].join('\n') + '\n');
    const r = await docOpsOnAdjusted(t.ctx, undefined);
    assert.equal(r.status, 'FAIL');
    assert.equal(
      r.reason,
      'DocOps FAIL on the adjusted documents: DocOps Token: ' +
        [2, 3, 4, 5, 6].map((n) => `docs/notes.md:${n} forbidden token "DO-NOT-SHIP" at column 8`).join(', ') +
        ' (+2 more)',
    );
  });

  it('a ledger the SSOT Docs guard rejects (an AC row deleted since HEAD) fails it, with the ledger named', async () => {
    const t = await exampleContext();
    root = t.root;
    const ledger = path.join(root, t.config.ssot.ledger);
    fs.writeFileSync(ledger, fs.readFileSync(ledger, 'utf8').split('\n').filter((l) => !l.startsWith('| D202::AC-2 |')).join('\n'));
    const r = await docOpsOnAdjusted(t.ctx, undefined);
    assert.equal(r.status, 'FAIL');
    assert.match(r.reason ?? '', /^DocOps FAIL on the adjusted documents: SSOT Docs: .*D202::AC-2/);
  });

  it('a guard already red on an ACCEPTED red baseline is tolerated (not the Worker’s doing); not accepted, it fails', async () => {
    const t = await exampleContext();
    root = t.root;
    fs.writeFileSync(path.join(root, 'docs/notes.md'), 'DO-NOT-SHIP\n');
    const accepted = await docOpsOnAdjusted(t.ctx, redBaseline(true));
    assert.equal(accepted.status, 'PASS');
    assert.deepEqual(accepted.tolerated, ['DocOps Token']);
    const refused = await docOpsOnAdjusted(t.ctx, redBaseline(false));
    assert.equal(refused.status, 'FAIL');
    assert.deepEqual(refused.tolerated, []);
  });

  it('findings only in the Controller’s records (history, earlier runs’ evidence quoting what they failed on) are not this cycle’s; in its own evidence they are', async () => {
    const t = await exampleContext();
    root = t.root;
    t.config.docops.include = ['**/*.md', 'logs/autopilot/*.jsonl'];
    const earlier = path.join(root, 'logs/evidence/20261205_230000_d201_abcdef0');
    fs.mkdirSync(earlier, { recursive: true });
    fs.writeFileSync(path.join(earlier, 'README.md'), 'FAIL: forbidden token "DO-NOT-SHIP"\n');
    fs.mkdirSync(path.join(root, 'logs/autopilot'), { recursive: true });
    fs.writeFileSync(path.join(root, 'logs/autopilot/history.jsonl'), '{"reasons":["DO-NOT-SHIP"]}\n');
    const records = await docOpsOnAdjusted(t.ctx, undefined);
    assert.equal(records.report.guards.find((g) => g.name === 'DocOps Token')?.status, 'FAIL', 'the scan itself found them');
    assert.equal(records.status, 'PASS', records.reason);
    fs.mkdirSync(path.join(root, 'logs/evidence', RUN), { recursive: true });
    fs.writeFileSync(path.join(root, 'logs/evidence', RUN, 'README.md'), 'DO-NOT-SHIP\n');
    const own = await docOpsOnAdjusted(t.ctx, undefined);
    assert.equal(own.reason, `DocOps FAIL on the adjusted documents: DocOps Token: logs/evidence/${RUN}/README.md:1 forbidden token "DO-NOT-SHIP" at column 1`);
  });

  it('interrupted: an error (the cycle ends ABORTED), never a FAIL verdict', async () => {
    const t = await exampleContext();
    root = t.root;
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(docOpsOnAdjusted({ ...t.ctx, signal: ac.signal }, undefined), (e: Error & { code?: string }) => e.name === 'AbortError' || e.code === 'interrupted');
  });

  it('the verdict: FAIL counted as an attempt; the attempt that reaches the retry cap BLOCKs the ticket (cause FAIL)', async () => {
    const t = await exampleContext();
    root = t.root;
    assert.deepEqual(failedAdjustVerdict(t.ctx, 'D201', 'r3', 'why'), { status: 'FAIL', cause: 'FAIL', reasons: ['why'] });
    const cap = t.config.killSwitch.maxRetries;
    for (let i = 0; i < cap - 1; i++) await appendHistory(t.ctx.paths.history, { runId: `r${i}`, ticketId: 'D201', status: 'FAIL', endedAt: new Date().toISOString(), costUsd: 0 });
    assert.deepEqual(failedAdjustVerdict(t.ctx, 'D201', 'r9', 'why'), { status: 'BLOCKED', cause: 'FAIL', reasons: ['why'], blockReason: `retry cap: ${cap} failed attempts (cap ${cap})` });
    assert.equal(failedAdjustVerdict(t.ctx, 'D202', 'r9', 'why').status, 'FAIL', 'another ticket’s FAILs do not count');
  });
});
