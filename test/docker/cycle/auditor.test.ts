import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runAuditor } from '../../../src/core/auditor/run-auditor';
import { loadConfigStrict } from '../../../src/core/config/load';
import type { FactoryConfig } from '../../../src/core/config/schema';
import { preparePlan, runCycle } from '../../../src/core/cycle/orchestrator';
import { requireDocker } from '../../support/engines';
import { REPLAYS, build, cleanup, exampleRepo, git, replayDir } from './helpers';

const verdict = (v: 'PASS' | 'FAIL', violations: unknown[] = []) => ({
  steps: [{ op: 'write', path: '/factory/out/audit_report.json', content: JSON.stringify({ ticket_id: 'D201', verdict: v, violations, summary: `recorded ${v}`, model: 'replay-auditor', cost_usd: 123 }) }],
});

/** Risk rules that make D201 (engine/pricing.py) HIGH, so the Auditor is required. */
async function highRisk(repo: string): Promise<FactoryConfig> {
  const { config } = await loadConfigStrict(repo);
  config.risk.rules = [{ pattern: 'engine/pricing.py', level: 'HIGH' }];
  return config;
}

describe('the Auditor (read-only container, real engine)', function () {
  this.timeout(300_000);
  before(function () {
    requireDocker(this);
    build();
  });
  after(cleanup);

  it('HIGH risk calls the Auditor: a PASS verdict lets the cycle commit, the report is kept with the gateway\'s cost', async () => {
    const repo = exampleRepo();
    const replays = replayDir({ 'D201.json': JSON.parse(fs.readFileSync(path.join(REPLAYS, 'D201.json'), 'utf8')), 'D201.audit.json': verdict('PASS') });
    const o = await runCycle({ root: repo, agent: 'replay', replayDir: replays, config: await highRisk(repo) });
    assert.equal(o.status, 'PASS', o.reasons.join('; '));
    assert.equal(o.escalated, false);
    assert.equal(o.audit?.verdict, 'PASS');
    const report = JSON.parse(fs.readFileSync(path.join(repo, o.audit?.report ?? ''), 'utf8'));
    assert.equal(report.run_id, o.runId);
    assert.equal(report.cost_usd, 0, 'the claimed $123 is replaced by the gateway meter (no calls)');
  });

  it('HIGH risk with an Auditor verdict FAIL fails the cycle: nothing applied, violations listed with file:line rule', async () => {
    const repo = exampleRepo();
    const replays = replayDir({
      'D201.json': JSON.parse(fs.readFileSync(path.join(REPLAYS, 'D201.json'), 'utf8')),
      'D201.audit.json': verdict('FAIL', [{ file: 'engine/pricing.py', line: 12, rule: 'SSOT-4 PnL only in engine/pnl.py', message: 'planted' }]),
    });
    const o = await runCycle({ root: repo, agent: 'replay', replayDir: replays, config: await highRisk(repo) });
    assert.equal(o.status, 'FAIL');
    assert.match(o.reasons.join('\n'), /Auditor verdict FAIL: engine\/pricing\.py:12 SSOT-4 PnL only in engine\/pnl\.py/);
    assert.doesNotMatch(fs.readFileSync(path.join(repo, 'engine/pricing.py'), 'utf8'), /MAX_SPREAD_BPS/);
    assert.equal(git(repo, 'rev-list', '--count', 'HEAD').trim(), '1');
  });

  it('a PASS verdict that lists an error violation is a FAIL; no report at all is a FAIL', async () => {
    const repo = exampleRepo();
    const replays = replayDir({
      'D201.json': JSON.parse(fs.readFileSync(path.join(REPLAYS, 'D201.json'), 'utf8')),
      'D201.audit.json': verdict('PASS', [{ file: 'engine/pricing.py', rule: 'R', severity: 'error' }]),
    });
    const o = await runCycle({ root: repo, agent: 'replay', replayDir: replays, config: await highRisk(repo) });
    assert.equal(o.audit?.verdict, 'FAIL');
    assert.equal(o.status, 'FAIL');
    const silent = replayDir({ 'D201.json': JSON.parse(fs.readFileSync(path.join(REPLAYS, 'D201.json'), 'utf8')), 'D201.audit.json': { steps: [] } });
    const o2 = await runCycle({ root: repo, agent: 'replay', replayDir: silent, config: await highRisk(repo) });
    assert.equal(o2.audit?.verdict, 'FAIL');
    assert.match(o2.reasons.join('\n'), /no valid verdict: no audit_report\.json/);
  });

  it('SEC-04 an Auditor that fills its output folder past the growth cap is stopped, and its PASS does not count', async () => {
    const repo = exampleRepo();
    const config = await highRisk(repo);
    config.worker.workspaceMb = 8;
    const mib = 'x'.repeat(1024 * 1024);
    const filler = {
      steps: [
        ...verdict('PASS').steps,
        ...Array.from({ length: 12 }, (_, i) => ({ op: 'write', path: `/factory/out/fill${i}.bin`, content: mib })),
        { op: 'sleep', ms: 120_000 },
      ],
    };
    const replays = replayDir({ 'D201.json': JSON.parse(fs.readFileSync(path.join(REPLAYS, 'D201.json'), 'utf8')), 'D201.audit.json': filler });
    const t0 = Date.now();
    const o = await runCycle({ root: repo, agent: 'replay', replayDir: replays, config });
    assert.ok(Date.now() - t0 < 60_000, 'stopped by the watchdog, not by the time cap');
    assert.equal(o.audit?.verdict, 'FAIL');
    assert.equal(o.status, 'FAIL');
    assert.match(o.reasons.join('\n'), /wrote more than 8 MiB into its output folders/);
    assert.equal(git(repo, 'rev-list', '--count', 'HEAD').trim(), '1', 'nothing committed');
  });

  it('SEC-01 the Auditor container: no network, caps dropped, read-only root, the tree and its inputs mounted read-only; it cannot change the tree', async () => {
    const repo = exampleRepo();
    const { config } = await loadConfigStrict(repo);
    const { built } = await preparePlan(repo, config, { ticket: 'D201' });
    // A workspace copy with a change, as a cycle's staging copy would hold it.
    const ws = fs.mkdtempSync(path.join(path.dirname(repo), 'ws-'));
    fs.cpSync(repo, ws, { recursive: true, filter: (s) => !s.includes(`${path.sep}.git`) });
    fs.appendFileSync(path.join(ws, 'engine/pricing.py'), '\nAUDITED = True\n');
    execFileSync('chmod', ['-R', 'a+rX', ws]);
    const probe = replayDir({
      'D201.audit.json': {
        steps: [
          // Copies the diff it was given into its report's summary, then tries to write the tree.
          { op: 'write', path: '/factory/out/audit_report.json', content: JSON.stringify({ ticket_id: 'D201', verdict: 'PASS', violations: [], summary: 'see diff', model: 'm', cost_usd: 0 }) },
          { op: 'write', path: 'engine/pricing.py', content: 'tampered\n' },
        ],
      },
    });
    let inspect: Record<string, unknown> | undefined;
    const out = await runAuditor(
      { root: repo, config, plan: built.plan, workspace: ws, changes: [{ path: 'engine/pricing.py', kind: 'modified' }], rules: 'rules', replayFile: path.join(probe, 'D201.audit.json'), reason: 'manual' },
      { onContainerStart: (id) => void (inspect = JSON.parse(execFileSync('docker', ['inspect', id], { encoding: 'utf8' }))[0]) },
    );
    assert.ok(inspect, 'inspected while running');
    const hc = inspect.HostConfig as { NetworkMode: string; CapDrop: string[]; ReadonlyRootfs: boolean; Privileged: boolean; SecurityOpt: string[] };
    assert.equal(hc.NetworkMode, 'none');
    assert.deepEqual(hc.CapDrop, ['ALL']);
    assert.equal(hc.ReadonlyRootfs, true);
    assert.equal(hc.Privileged, false);
    assert.ok(hc.SecurityOpt.some((o) => o.startsWith('no-new-privileges')));
    const mounts = inspect.Mounts as { Destination: string; RW: boolean; Source: string }[];
    assert.equal(mounts.find((m) => m.Destination === '/workspace')?.RW, false);
    assert.equal(mounts.find((m) => m.Destination === '/factory/audit')?.RW, false);
    assert.ok(!mounts.some((m) => /\.git$|docker\.sock/.test(m.Source)));
    assert.equal((inspect.Config as { User: string }).User, '1000:1000');
    assert.equal(out.report.verdict, 'PASS');
    assert.match(fs.readFileSync(path.join(ws, 'engine/pricing.py'), 'utf8'), /AUDITED = True\n$/, 'the read-only tree was not changed');
  });
});
