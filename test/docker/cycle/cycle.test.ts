import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfigStrict } from '../../../src/core/config/load';
import type { FactoryConfig } from '../../../src/core/config/schema';
import { runCycle, cycleRecords, type CycleEvent } from '../../../src/core/cycle/orchestrator';
import { validateEvidence } from '../../../src/core/evidence/validator';
import { readHistory } from '../../../src/core/history/history';
import { parseLedger } from '../../../src/core/ssot/ledger';
import { FactoryError } from '../../../src/core/util/errors';
import { requireDocker } from '../../support/engines';
import { ScriptedProvider } from '../../support/scripted-provider';
import { REPLAYS, build, cleanup, cli, containersOf, exampleRepo, git, replayDir, treeDigest } from './helpers';

const LEDGER = 'docs/v2/design/AC_LEDGER.md';

async function config(repo: string, patch: (c: FactoryConfig) => void = () => undefined): Promise<FactoryConfig> {
  const { config: c } = await loadConfigStrict(repo);
  patch(c);
  return c;
}

function acIds(text: string): string[] {
  return parseLedger(text, LEDGER).acs.map((a) => a.id);
}

describe('PDCA cycle on a real engine (replay agent, real sandbox, gateway and Gate containers)', function () {
  this.timeout(300_000);
  before(function () {
    requireDocker(this);
    build(); // the Worker runtime (dist/worker.js) runs inside the container
  });
  after(cleanup);

  it('PASS → ADJUST: applied, ledger DONE with evidence and commit id, roadmap counts, evidence valid, one commit naming ticket, ACs, evidence and cost', async () => {
    const repo = exampleRepo();
    const base = git(repo, 'rev-parse', 'HEAD').trim();
    const ledgerBefore = fs.readFileSync(path.join(repo, LEDGER), 'utf8');
    const phases: string[] = [];
    const o = await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS }, { onEvent: (e: CycleEvent) => e.type === 'phase' && phases.push(e.phase) });
    assert.equal(o.status, 'PASS', o.reasons.join('; '));
    assert.equal(o.ticketId, 'D201');
    assert.deepEqual(o.acIds, ['D201::AC-2', 'D201::AC-3']);
    assert.deepEqual([...new Set(phases)], ['PLAN', 'DO', 'CHECK', 'ADJUST']);
    assert.deepEqual(o.changes.map((c) => c.path).sort(), ['engine/pricing.py', 'tests/test_pricing.py']);
    // One commit on top of the base, holding the change and the records.
    assert.equal(git(repo, 'rev-list', '--count', `${base}..HEAD`).trim(), '1');
    assert.equal(git(repo, 'rev-parse', 'HEAD').trim(), o.commit);
    const msg = git(repo, 'log', '-1', '--format=%B');
    assert.match(msg, /^factory: D201 PASS — D201::AC-2, D201::AC-3 DONE/);
    assert.match(msg, new RegExp(`Evidence: ${o.evidencePath}`));
    assert.match(msg, /Cost: \$0\.0000/);
    const files = git(repo, 'show', '--name-only', '--format=', 'HEAD').trim().split('\n');
    for (const f of ['engine/pricing.py', 'tests/test_pricing.py', LEDGER, 'D_ROADMAP.md', 'logs/autopilot/history.jsonl']) assert.ok(files.includes(f), `${f} committed`);
    assert.ok(files.some((f) => f.startsWith(`${o.evidencePath}`)), 'evidence committed');
    assert.equal(git(repo, 'status', '--porcelain', '--', 'engine', 'tests', LEDGER, 'D_ROADMAP.md').trim(), '', 'nothing left uncommitted');
    // The applied change is the Worker's.
    assert.match(fs.readFileSync(path.join(repo, 'engine/pricing.py'), 'utf8'), /MAX_SPREAD_BPS = 20_000/);
    // Ledger: only the two rows changed, DONE with evidence and the verified base commit.
    const ledger = fs.readFileSync(path.join(repo, LEDGER), 'utf8');
    const rows = parseLedger(ledger, LEDGER).acs.filter((a) => a.ticketId === 'D201' && a.id !== 'D201::AC-1');
    for (const r of rows) {
      assert.equal(r.status, 'DONE');
      assert.equal(r.evidence, o.evidencePath);
      assert.equal(r.commit, base.slice(0, 7));
    }
    const changedLines = ledger.split('\n').filter((l, i) => l !== ledgerBefore.split('\n')[i]);
    assert.equal(changedLines.length, 2);
    // SEC-30 across ADJUST: every AC row of the committed ledger before is still there.
    assert.deepEqual(acIds(ledger), acIds(ledgerBefore));
    assert.match(fs.readFileSync(path.join(repo, 'D_ROADMAP.md'), 'utf8'), /^\| D201 \| Spread quoting \| 3\/3 \| DONE \|$/m);
    // Evidence validates; history and cost summary record the cycle.
    assert.ok(o.evidencePath);
    const check = validateEvidence(path.join(repo, o.evidencePath));
    assert.ok(check.valid, JSON.stringify(check.problems));
    const h = readHistory(path.join(repo, 'logs/autopilot/history.jsonl'));
    assert.deepEqual(h.problems, []);
    assert.deepEqual(h.records.map((r) => [r.runId, r.status]), [[o.runId, 'PASS']]);
    const month = o.runId.slice(0, 6);
    const summary = JSON.parse(fs.readFileSync(path.join(repo, `logs/autopilot/cost_summary_${month}.json`), 'utf8'));
    assert.equal(summary.cycles, 1);
    assert.deepEqual(summary.byStatus, { PASS: 1 });
    assert.equal(fs.existsSync(path.join(repo, 'logs/autopilot/cycle_state.json')), false, 'no cycle left in flight');
    assert.deepEqual(containersOf(o.runId), [], 'every Worker/Gate container removed');
  });

  it('the Worker container starts while the base snapshot is taken, but its agent only once the snapshot is complete', async () => {
    // With the snapshot held back 1.5 s, a runtime that did not wait for plan.json would let the
    // (fast) replay agent edit before the snapshot, which would then take the edits as the base:
    // an empty changeset. The runtime waits, so the edits are the changeset.
    const repo = exampleRepo();
    const lines: string[] = [];
    process.env.FACTORY_FAULT_DELAY_AT = 'DO:snapshot=1500';
    let o: Awaited<ReturnType<typeof runCycle>>;
    try {
      o = await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS }, { logger: { trace: () => undefined, debug: (m) => lines.push(String(m)), info: () => undefined, warn: () => undefined, error: () => undefined } });
    } finally {
      delete process.env.FACTORY_FAULT_DELAY_AT;
    }
    assert.equal(o.status, 'PASS', o.reasons.join('; '));
    assert.deepEqual(o.changes.map((c) => c.path).sort(), ['engine/pricing.py', 'tests/test_pricing.py']);
    // The container was really up before the snapshot ended (the overlap is real, not sequential).
    const started = lines.findIndex((l) => /container worker: started/.test(l));
    const snapped = lines.findIndex((l) => /snapshot of \d+ entries/.test(l));
    assert.ok(started >= 0 && snapped > started, `container started before the snapshot finished: ${lines.join(' | ')}`);
    assert.ok(o.timings.agentMs >= 1_500, `the Worker waited for plan.json (${o.timings.agentMs} ms)`);
  });

  it('the Gate runs on the staging copy read-only: a test that rewrites a changed file cannot alter what ADJUST applies', async () => {
    const repo = exampleRepo();
    const recorded = JSON.parse(fs.readFileSync(path.join(REPLAYS, 'D201.json'), 'utf8'));
    const tamper = "\n\ndef test_tamper():\n    try:\n        with open('engine/pricing.py', 'a') as f:\n            f.write('TAMPERED = 1\\n')\n    except OSError:\n        pass\n";
    const replays = replayDir({ 'D201.json': { steps: [...recorded.steps, { op: 'append', path: 'tests/test_pricing.py', content: tamper }] } });
    const o = await runCycle({ root: repo, agent: 'replay', replayDir: replays });
    assert.equal(o.status, 'PASS', o.reasons.join('; '));
    const applied = fs.readFileSync(path.join(repo, 'engine/pricing.py'), 'utf8');
    assert.match(applied, /MAX_SPREAD_BPS = 20_000/);
    assert.doesNotMatch(applied, /TAMPERED/);
  });

  it('a failure inside ADJUST (git refuses the commit) is rolled back at once: tree byte-identical, the cycle ABORTED', async () => {
    const repo = exampleRepo();
    const before = treeDigest(repo);
    const lock = path.join(repo, '.git', 'index.lock');
    await assert.rejects(
      runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS }, { onEvent: (e) => void (e.type === 'phase' && e.phase === 'ADJUST' && fs.writeFileSync(lock, '')) }),
      /git add failed/,
    );
    fs.rmSync(lock);
    assert.equal(treeDigest(repo), before, 'the applied change, ledger, roadmap and evidence are all undone');
    assert.equal(readHistory(path.join(repo, 'logs/autopilot/history.jsonl')).records.at(-1)?.status, 'ABORTED');
    assert.equal(fs.existsSync(path.join(repo, 'logs/autopilot/cycle_state.json')), false);
    assert.equal(git(repo, 'status', '--porcelain', '--', 'engine', 'tests', 'docs', 'D_ROADMAP.md').trim(), '');
  });

  it('SEC-11 SEC-13 a Worker writing outside its scope fails with the path listed; the host tree is byte-identical, ignored .env included', async () => {
    const repo = exampleRepo();
    fs.writeFileSync(path.join(repo, '.env'), 'SECRET=do-not-touch\n');
    await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS }); // D201 first, so D202 is next
    const before = treeDigest(repo);
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    const o = await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS });
    assert.equal(o.ticketId, 'D202');
    assert.equal(o.status, 'FAIL');
    assert.deepEqual(o.violations.map((v) => [v.path, v.rule]), [['engine/__init__.py', 'out-of-scope']]);
    assert.match(o.reasons.join('\n'), /engine\/__init__\.py \(out-of-scope\)/);
    assert.equal(treeDigest(repo), before, 'host tree byte-identical (outside the Controller records)');
    assert.equal(git(repo, 'rev-parse', 'HEAD').trim(), head, 'no commit');
    assert.equal(o.commit, null);
    // A FAIL leaves its own evidence run, marked FAIL and not committed (issue 17 item 5; fail-evidence.test.ts).
    assert.equal(o.evidencePath, `logs/evidence/${o.runId}/`);
    // The staging copy is kept for inspection and holds what the Worker did.
    assert.ok(o.stagingKept && fs.existsSync(path.join(o.stagingKept, 'workspace', 'engine', 'slippage.py')));
    // ... and what the agent said: its log, prompt and command line, regular files only.
    const kept = path.join(o.stagingKept, 'agent');
    for (const f of ['agent.log', 'prompt.md', 'cmd_history.txt', 'agent-result.json']) assert.ok(fs.statSync(path.join(kept, f)).isFile(), `${f} kept`);
    assert.match(fs.readFileSync(path.join(kept, 'prompt.md'), 'utf8'), /D202/);
    const last = readHistory(path.join(repo, 'logs/autopilot/history.jsonl')).records.at(-1);
    assert.equal(last?.status, 'FAIL');
    assert.deepEqual(containersOf(o.runId), []);
  });

  it('Gate FAIL applies nothing; 2 consecutive FAILs escalate to the Auditor; the retry cap sets BLOCKED (with the reason) in the roadmap and history', async () => {
    const repo = exampleRepo();
    const before = treeDigest(repo, ['.git', 'logs/autopilot', 'D_ROADMAP.md']);
    const outs = [];
    for (let i = 0; i < 3; i++) outs.push(await runCycle({ root: repo, ticket: 'D301', agent: 'replay', replayDir: REPLAYS }));
    assert.deepEqual(outs.map((o) => o.status), ['FAIL', 'FAIL', 'BLOCKED']);
    assert.deepEqual(outs.map((o) => o.escalated), [false, false, true]);
    assert.equal(outs[0]?.audit, null);
    assert.equal(outs[2]?.audit?.verdict, 'FAIL');
    for (const o of outs) assert.ok(o.reasons.includes('Gate FAIL at fast'), o.reasons.join('; '));
    assert.match(outs[2]?.reasons.join('\n') ?? '', /retry cap: 3 failed attempts \(cap 3\)/);
    const report = JSON.parse(fs.readFileSync(path.join(repo, outs[2]?.audit?.report ?? ''), 'utf8'));
    assert.equal(report.verdict, 'FAIL');
    assert.equal(report.violations[0].file, 'tests/test_report.py');
    assert.equal(report.run_id, outs[2]?.runId);
    assert.match(fs.readFileSync(path.join(repo, 'D_ROADMAP.md'), 'utf8'), /^\| D301 \| Daily PnL report \| 0\/3 \| BLOCKED \(retry cap: 3 failed attempts \(cap 3\)\) \|$/m);
    assert.equal(treeDigest(repo, ['.git', 'logs/autopilot', 'D_ROADMAP.md']), before, 'no code applied');
    assert.match(git(repo, 'log', '-1', '--format=%s'), /^factory: D301 BLOCKED/);
    assert.deepEqual(cycleRecords(path.join(repo, 'logs/autopilot/history.jsonl')).map((r) => r.status), ['FAIL', 'FAIL', 'BLOCKED']);
    // A BLOCKED ticket leaves the queue and cannot be run explicitly.
    await assert.rejects(runCycle({ root: repo, ticket: 'D301', agent: 'replay', replayDir: REPLAYS }), (e: FactoryError) => e.code === 'plan.blocked');
  });

  it('time cap: a Worker that sleeps past the cap is killed and removed, the cycle is TIMEOUT and the ticket BLOCKED', async () => {
    const repo = exampleRepo();
    const replays = replayDir({ 'D201.json': { steps: [{ op: 'write', path: 'engine/pricing.py', content: '# half done\n' }, { op: 'sleep', ms: 120_000 }] } });
    const c = await config(repo, (x) => (x.killSwitch.timeMinutes = 0.05));
    const t0 = Date.now();
    const o = await runCycle({ root: repo, agent: 'replay', replayDir: replays, config: c });
    assert.ok(Date.now() - t0 < 60_000, 'killed near the 3 s cap, not after the sleep');
    assert.equal(o.status, 'TIMEOUT');
    assert.equal(o.blocked, true);
    assert.match(o.reasons.join('\n'), /time cap/);
    assert.match(fs.readFileSync(path.join(repo, 'D_ROADMAP.md'), 'utf8'), /^\| D201 \|.*\| BLOCKED \(time cap \(0\.05 min\)\) \|$/m);
    assert.doesNotMatch(fs.readFileSync(path.join(repo, 'engine/pricing.py'), 'utf8'), /half done/);
    assert.deepEqual(containersOf(o.runId), []);
  });

  it('SEC-04 workspace cap in a cycle: a Worker writing past worker.workspaceMb (in the workspace or its log folder) is stopped (or caught after it exits) and nothing is applied', async () => {
    const repo = exampleRepo();
    const mib = 'x'.repeat(1024 * 1024);
    const fill = (n: number) => Array.from({ length: n }, (_, i) => ({ op: 'write', path: `engine/fill${i}.bin`, content: mib }));
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    const c = await config(repo, (x) => (x.worker.workspaceMb = 8));
    // Writes 12 MiB, then lingers: the watchdog stops it long before the sleep ends.
    const lingering = replayDir({ 'D201.json': { steps: [...fill(12), { op: 'sleep', ms: 120_000 }] } });
    const t0 = Date.now();
    const o = await runCycle({ root: repo, agent: 'replay', replayDir: lingering, config: c });
    assert.ok(Date.now() - t0 < 60_000, 'stopped by the watchdog, not by the time cap');
    assert.equal(o.status, 'FAIL', o.reasons.join('; '));
    assert.match(o.reasons.join('\n'), /workspace size cap: the Worker wrote more than 8 MiB/);
    assert.deepEqual(containersOf(o.runId), []);
    // Writes 12 MiB and exits at once: judged on the after snapshot.
    const quick = replayDir({ 'D201.json': { steps: fill(12) } });
    const o2 = await runCycle({ root: repo, agent: 'replay', replayDir: quick, config: c });
    assert.equal(o2.status, 'FAIL', o2.reasons.join('; '));
    assert.match(o2.reasons.join('\n'), /workspace size cap/);
    assert.equal(git(repo, 'rev-parse', 'HEAD').trim(), head, 'no commit');
    assert.equal(fs.existsSync(path.join(repo, 'engine', 'fill0.bin')), false, 'nothing applied');
    // The agent's log folder (/factory/agent, a host folder) counts too: 12 MiB there is over the cap.
    const logs = replayDir({ 'D201.json': { steps: [...Array.from({ length: 12 }, (_, i) => ({ op: 'write', path: `/factory/agent/fill${i}.log`, content: mib })), { op: 'sleep', ms: 120_000 }] } });
    const fresh = exampleRepo(); // two FAILs on D201 already: a third would hit the retry cap
    const t1 = Date.now();
    const o3 = await runCycle({ root: fresh, agent: 'replay', replayDir: logs, config: await config(fresh, (x) => (x.worker.workspaceMb = 8)) });
    assert.ok(Date.now() - t1 < 60_000, 'stopped by the watchdog, not by the time cap');
    assert.equal(o3.status, 'FAIL', o3.reasons.join('; '));
    assert.match(o3.reasons.join('\n'), /workspace size cap/);
  });

  it('budget cap: once the metered spend passes the budget the gateway refuses, the cycle stops, the cost equals the meter and the ticket is BLOCKED', async () => {
    const provider = await ScriptedProvider.start({ script: () => ({ text: 'ok', usage: { input: 100_000, output: 1_000 } }) });
    const prevKey = process.env.ANTHROPIC_API_KEY;
    process.env.ANTHROPIC_API_KEY = 'sk-ant-test-budget';
    try {
      const repo = exampleRepo();
      const call = { op: 'call', provider: 'anthropic', path: '/v1/messages', body: { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] } };
      const replays = replayDir({ 'D201.json': { steps: [call, call, call, { op: 'write', path: 'engine/pricing.py', content: '# should never land\n' }] } });
      const c = await config(repo, (x) => {
        x.killSwitch.budgetUsd = 0.2;
        x.gateway.upstreams = { anthropic: provider.url };
      });
      const o = await runCycle({ root: repo, agent: 'replay', replayDir: replays, config: c });
      assert.equal(o.status, 'BLOCKED', o.reasons.join('; '));
      assert.match(o.reasons.join('\n'), /budget cap/);
      // 100k input + 1k output tokens of claude-sonnet-4-5 ($3 / $15 per MTok) = $0.315 per call:
      // the first call spends past $0.20, the second is refused before it reaches the provider.
      assert.equal(provider.served.requests, 1);
      assert.ok(Math.abs(o.costUsd - 0.315) < 1e-9, `cost ${o.costUsd}`);
      assert.match(fs.readFileSync(path.join(repo, 'D_ROADMAP.md'), 'utf8'), /^\| D201 \|.*\| BLOCKED \(budget cap \(\$0\.20\)\) \|$/m);
      assert.doesNotMatch(fs.readFileSync(path.join(repo, 'engine/pricing.py'), 'utf8'), /never land/);
      assert.equal(readHistory(path.join(repo, 'logs/autopilot/history.jsonl')).records.at(-1)?.costUsd, o.costUsd);
    } finally {
      if (prevKey === undefined) delete process.env.ANTHROPIC_API_KEY;
      else process.env.ANTHROPIC_API_KEY = prevKey;
      await provider.close();
    }
  });

  it('uncommitted host changes refuse the cycle in PLAN, before any copy or container: in the plan\'s scope.modify as scope-dirty, elsewhere as worktree-dirty (spec §8-3 clean start)', async () => {
    const repo = exampleRepo();
    fs.writeFileSync(path.join(repo, 'engine/pricing.py'), '# uncommitted work\n');
    fs.writeFileSync(path.join(repo, 'tests/test_new file.py'), '# untracked\n');
    const before = treeDigest(repo);
    await assert.rejects(
      runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS }),
      (e: unknown) => e instanceof FactoryError && e.code === 'scope-dirty' && /"engine\/pricing\.py"/.test(e.message) && !/test_new file/.test(e.message),
    );
    assert.equal(treeDigest(repo), before, 'nothing written: no plan.json, no history, no state');
    assert.equal(fs.existsSync(path.join(repo, 'logs/autopilot/history.jsonl')), false);
    // D201's scope is engine/pricing.py and tests/test_pricing.py: a dirty file outside it is refused too, as a dirty tree.
    git(repo, 'checkout', '--', 'engine/pricing.py');
    fs.writeFileSync(path.join(repo, 'engine/fees.py'), fs.readFileSync(path.join(repo, 'engine/fees.py'), 'utf8') + '\n# local note\n');
    await assert.rejects(
      runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS, ticket: 'D201' }),
      (e: unknown) => e instanceof FactoryError && e.code === 'worktree-dirty' && /"engine\/fees\.py"/.test(e.message) && /"tests\/test_new file\.py"/.test(e.message),
    );
    assert.equal(fs.existsSync(path.join(repo, 'logs/autopilot/history.jsonl')), false);
    // Committed (or cleaned), the tree is clean and the cycle runs.
    git(repo, 'checkout', '--', 'engine/fees.py');
    fs.rmSync(path.join(repo, 'tests/test_new file.py'));
    const o = await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS, ticket: 'D201' });
    assert.equal(o.status, 'PASS', o.reasons.join('; '));
  });

  it('git.push: the PASS commit reaches the upstream (SEC-10: no pre-push hook runs); a push that fails keeps the commit and says why', async () => {
    const repo = exampleRepo();
    const remote = `${repo}-remote.git`;
    git(path.dirname(repo), 'init', '-q', '--bare', remote);
    git(repo, 'remote', 'add', 'origin', remote);
    git(repo, 'push', '-q', '-u', 'origin', 'HEAD');
    // SEC-10: the repository's pre-push hook is not run by the Controller's push.
    const marker = `${repo}-hook-ran`;
    fs.writeFileSync(path.join(repo, '.git', 'hooks', 'pre-push'), `#!/bin/sh\ntouch ${JSON.stringify(marker)}\n`, { mode: 0o755 });
    const c = await config(repo, (x) => (x.git.push = true));
    const o = await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS, config: c });
    assert.equal(o.status, 'PASS', o.reasons.join('; '));
    assert.equal(git(remote, 'rev-parse', 'HEAD').trim(), o.commit, 'the upstream has the cycle\'s commit');
    assert.deepEqual(o.reasons, []);
    assert.equal(fs.existsSync(marker), false, 'the pre-push hook did not run');
    // No upstream for a new branch: the push fails, the cycle stays PASS with its commit, and says so.
    git(repo, 'checkout', '-q', '-b', 'no-upstream');
    // D302::AC-1 "refuses orders" is HIGH (risk.words 'order'): its PASS needs the Auditor's PASS too.
    const audit = { ticket_id: 'D302', verdict: 'PASS', violations: [], summary: 'a comment only', model: 'replay-auditor', cost_usd: 0 };
    const note = replayDir({
      'D302.json': { steps: [{ op: 'append', path: 'engine/inventory.py', content: '\n# reviewed\n' }, { op: 'exit', code: 0 }] },
      'D302.audit.json': { steps: [{ op: 'write', path: '/factory/out/audit_report.json', content: JSON.stringify(audit) }] },
    });
    const o2 = await runCycle({ root: repo, ticket: 'D302', agent: 'replay', replayDir: note, config: c });
    assert.equal(o2.status, 'PASS', o2.reasons.join('; '));
    assert.equal(o2.audit?.verdict, 'PASS', 'the HIGH-risk cycle called the Auditor');
    assert.equal(git(repo, 'rev-parse', 'HEAD').trim(), o2.commit);
    assert.match(o2.reasons.join('\n'), /git push failed \(the commit is kept\)/);
    assert.notEqual(git(remote, 'rev-parse', 'HEAD').trim(), o2.commit);
  });

  it('SEC-15 ADJUST refuses when the user edited a file in scope during the cycle: conflict reported, nothing applied', async () => {
    const repo = exampleRepo();
    const userEdit = '# the user was here\n';
    const o = await runCycle(
      { root: repo, agent: 'replay', replayDir: REPLAYS },
      { onEvent: (e) => void (e.type === 'phase' && e.phase === 'CHECK' && fs.writeFileSync(path.join(repo, 'engine/pricing.py'), userEdit)) },
    );
    assert.equal(o.status, 'FAIL');
    assert.match(o.reasons.join('\n'), /conflict: .*engine\/pricing\.py \(changed-on-host\)/);
    assert.equal(fs.readFileSync(path.join(repo, 'engine/pricing.py'), 'utf8'), userEdit, 'the user\'s edit is kept');
    assert.doesNotMatch(fs.readFileSync(path.join(repo, 'tests/test_pricing.py'), 'utf8'), /test_negative_spread_is_rejected/, 'no partial apply');
    assert.match(fs.readFileSync(path.join(repo, LEDGER), 'utf8'), /\| D201::AC-2 \|[^\n]*\| OPEN \|/);
    assert.equal(git(repo, 'rev-list', '--count', 'HEAD').trim(), '1');
  });

  it('SEC-30 a Worker that deletes an AC row from the ledger fails (read-only/forbidden) and the ledger keeps every row across the cycle', async () => {
    const repo = exampleRepo();
    const ledgerBefore = fs.readFileSync(path.join(repo, LEDGER), 'utf8');
    const cut = ledgerBefore.split('\n').filter((l) => !l.startsWith('| D101::AC-1 ')).join('\n');
    const recorded = JSON.parse(fs.readFileSync(path.join(REPLAYS, 'D201.json'), 'utf8'));
    const replays = replayDir({ 'D201.json': { steps: [...recorded.steps, { op: 'write', path: LEDGER, content: cut }] } });
    const o = await runCycle({ root: repo, agent: 'replay', replayDir: replays });
    assert.equal(o.status, 'FAIL');
    // The SSOT documents are overlaid read-only in the Worker's container: the write fails there
    // (the replay stops with exit 1); had it got through, the changeset check names it forbidden.
    const blockedInContainer = /the Worker exited with code 1/.test(o.reasons.join('\n'));
    const flagged = o.violations.some((v) => v.path === LEDGER && v.rule === 'forbidden');
    assert.ok(blockedInContainer || flagged, o.reasons.join('; '));
    assert.ok(o.stagingKept);
    assert.equal(fs.readFileSync(path.join(o.stagingKept, 'workspace', LEDGER), 'utf8'), ledgerBefore, 'not even the staging copy lost the row');
    assert.equal(fs.readFileSync(path.join(repo, LEDGER), 'utf8'), ledgerBefore);
    assert.deepEqual(acIds(fs.readFileSync(path.join(repo, LEDGER), 'utf8')), acIds(ledgerBefore));
  });

  it('SEC-27 two Controllers on one repo (two CLI processes): exactly one runs the cycle, the other exits 3', async () => {
    const repo = exampleRepo();
    const args = ['run', '--root', repo, '--agent', 'replay', '--replay', REPLAYS, '--json'];
    const [a, b] = await Promise.all([cli(args), cli(args)]);
    const codes = [a.code, b.code].sort();
    assert.deepEqual(codes, [0, 3], `${a.stderr}\n${b.stderr}`);
    const loser = a.code === 3 ? a : b;
    assert.match(loser.stderr, /another Controller is running a cycle/);
    assert.equal(git(repo, 'rev-list', '--count', 'HEAD').trim(), '2', 'exactly one cycle committed');
    assert.equal(readHistory(path.join(repo, 'logs/autopilot/history.jsonl')).records.length, 1);
  });
});
