import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfigStrict } from '../../../src/core/config/load';
import { runCycle, type CycleEvent } from '../../../src/core/cycle/orchestrator';
import { parseLedger } from '../../../src/core/ssot/ledger';
import type { Logger } from '../../../src/core/util/log';
import { requireDocker } from '../../support/engines';
import { REPLAYS, build, cleanup, exampleRepo, git } from './helpers';

const LEDGER = 'docs/v2/design/AC_LEDGER.md';

/**
 * A DocOps guard script of the project (kind "docops", run in a container like `factory docops`
 * runs it): no AC of the ledger is left IN_PROGRESS. While a cycle runs its ACs read IN_PROGRESS,
 * so this guard passes before the commit only when DocOps runs on the ledger ADJUST has set DONE.
 */
const NO_IN_PROGRESS = `"""DocOps guard: no AC of the ledger is left IN_PROGRESS (every cycle settles the ACs it marked)."""
import sys

LEDGER = "${LEDGER}"
left = [line.split("|")[1].strip() for line in open(LEDGER, encoding="utf-8") if "| IN_PROGRESS |" in line]
for ac in left:
    print(f"{LEDGER}: {ac} is left IN_PROGRESS")
sys.exit(1 if left else 0)
`;

/**
 * The example as a project would run it by spec §8-3: branch main tracking a local bare remote,
 * `git.push` on, and a DocOps guard script of its own — all committed, the tree clean.
 */
function startRepo(): { repo: string; bare: string } {
  const repo = exampleRepo();
  const bare = path.join(path.dirname(repo), 'origin.git');
  git(repo, 'branch', '-M', 'main');
  fs.writeFileSync(path.join(repo, 'scripts/check_no_in_progress.py'), NO_IN_PROGRESS);
  const file = path.join(repo, '.factory/config.json');
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { git?: object; guards: object[] };
  const guard = { name: 'No AC left IN_PROGRESS', command: ['python3', 'scripts/check_no_in_progress.py'], timeoutSeconds: 60, kind: 'docops' };
  fs.writeFileSync(file, JSON.stringify({ ...raw, git: { ...raw.git, push: true }, guards: [...raw.guards, guard] }, null, 2) + '\n');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'git.push on; DocOps guard: no AC left IN_PROGRESS');
  git(path.dirname(repo), 'init', '-q', '--bare', bare);
  git(repo, 'remote', 'add', 'origin', bare);
  git(repo, 'push', '-q', '-u', 'origin', 'main');
  return { repo, bare };
}

describe('the start procedure of spec §8-3 on one full cycle (issue 17 Done-when; replay agent, real sandbox, Gate, DocOps and a local bare remote)', function () {
  this.timeout(600_000);
  before(function () {
    requireDocker(this);
    build();
  });
  after(cleanup);

  it('baseline on HEAD first, then the cycle; DocOps on the adjusted documents before the commit; the PASS commit, with the ledger DONE, on the bare remote', async () => {
    const { repo, bare } = startRepo();
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    const { config } = await loadConfigStrict(repo);
    assert.equal(config.git.push, true);
    const events: string[] = [];
    const lines: string[] = [];
    const onEvent = (e: CycleEvent) => {
      // `baseline` is helper A's event (issue 17 item 2): read by name, whatever its other fields.
      const type = (e as { type: string }).type;
      events.push(e.type === 'phase' ? `phase ${e.phase}` : e.type === 'push' ? `push ${e.when}` : type);
    };
    const at = (level: string) => (m: string | Error) => lines.push(`${level} ${String(m)}`);
    const logger: Logger = { trace: () => undefined, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
    const o = await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS, config }, { onEvent, logger });
    assert.equal(o.status, 'PASS', o.reasons.join('; '));
    assert.equal(o.ticketId, 'D201');

    // (a) The baseline ran on HEAD — the commit the cycle started from — before any Worker.
    assert.ok(o.baseline, 'outcome.baseline: the baseline ran');
    assert.equal(o.baseline.commit, head);
    assert.equal(o.baseline.tree, git(repo, 'rev-parse', `${head}^{tree}`).trim());
    assert.equal(o.baseline.status, 'green', JSON.stringify(o.baseline.failing));
    assert.equal(o.baseline.accepted, false);
    const baselineAt = events.indexOf('baseline');
    assert.ok(baselineAt >= 0 && baselineAt < events.indexOf('phase DO'), `baseline before DO: ${events.join(', ')}`);

    // (b) DocOps ran on the adjusted documents (the guard saw no AC IN_PROGRESS: the ledger was
    // already DONE) after the ledger and roadmap were set and before the history line and the commit.
    assert.equal(o.docops?.status, 'PASS');
    const line = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const documents = line(/cycle: ledger and roadmap /);
    const docops = line(/^info ADJUST: DocOps on the adjusted documents: PASS \(SSOT Docs (PASS|WARN), DocOps Token PASS, No AC left IN_PROGRESS PASS; \d+ ms\)$/);
    const recorded = line(/cycle: evidence checked, history recorded /);
    const committed = line(/cycle: committed /);
    assert.ok(documents >= 0 && docops > documents && recorded > docops && committed > recorded, `order: documents ${documents}, DocOps ${docops}, recorded ${recorded}, committed ${committed}\n${lines.join('\n')}`);

    // (c) The PASS commit is on the bare remote, and it holds the ledger's DONE rows.
    assert.ok(o.commit);
    assert.equal(o.pushed, true, o.pushError);
    assert.equal(git(repo, 'rev-parse', 'HEAD').trim(), o.commit);
    assert.equal(git(bare, 'rev-parse', 'main').trim(), o.commit, 'the bare remote has the PASS commit');
    assert.equal(git(repo, 'rev-list', '--count', `${head}..${o.commit}`).trim(), '1', 'one commit on top of HEAD');
    assert.ok(git(repo, 'show', '--name-only', '--format=', o.commit).split('\n').includes(LEDGER), 'the commit changes the ledger');
    const pushedLedger = parseLedger(git(bare, 'show', `main:${LEDGER}`), LEDGER).acs.filter((a) => a.ticketId === 'D201');
    assert.deepEqual(pushedLedger.map((a) => [a.id, a.status]), [['D201::AC-1', 'DONE'], ['D201::AC-2', 'DONE'], ['D201::AC-3', 'DONE']]);
    for (const a of pushedLedger.slice(1)) assert.equal(a.evidence, o.evidencePath);

    // The whole procedure, in order: baseline, the phases, the push after the commit; the tree clean.
    const order = ['baseline', 'phase DO', 'phase CHECK', 'phase ADJUST', 'push commit', 'end'].map((e) => events.indexOf(e));
    assert.deepEqual([...order].sort((x, y) => x - y), order, events.join(', '));
    assert.ok(!order.includes(-1), events.join(', '));
    // Clean but for the gate cache (the Controller's own record, which the clean-start check skips).
    assert.equal(git(repo, 'status', '--porcelain', '--', '.', ':!logs/autopilot/gate_cache').trim(), '', 'the tree is clean after the run');
  });
});
