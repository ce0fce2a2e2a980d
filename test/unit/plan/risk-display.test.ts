import { strict as assert } from 'node:assert';
import { configSchema } from '../../../src/core/config/schema';
import type { Plan } from '../../../src/core/contracts/plan';
import { formatDryRun, type DryRun } from '../../../src/core/cycle/dry-run';
import { assessTicketRisk, riskWhyLines, ticketRiskTexts } from '../../../src/core/plan/risk';
import type { AcceptanceCriterion, SsotIndex, Ticket } from '../../../src/core/ssot/model';
import { CycleFeed } from '../../../src/extension/panels/run/cycle-feed';
import { buildRoadmapRows } from '../../../src/extension/views/roadmap/roadmap-model';
import { runSnapshot, type RunSnapshot } from '../../../src/shared/protocol';

const config = configSchema.parse({ evidence: { profitTickets: ['D9*'] } });
const ac = (id: string, title: string, line: number): AcceptanceCriterion => {
  const [ticketId = '', localId = ''] = id.split('::');
  return { id, ticketId, localId, title, status: 'OPEN', rawStatus: 'OPEN', origin: 'ledger', source: { file: 'L.md', line } };
};
const ticket: Ticket = { id: 'D301', title: 'Execution costs', status: 'OPEN', rawStatus: 'OPEN', acs: [], source: { file: 'R.md', line: 3 } };
const acs = [ac('D301::AC-1', 'Log every fill', 4), ac('D301::AC-2', '슬리피지 모델 추가', 5)];

describe('risk reasons shown in factory dry, the Roadmap tree and the Run panel', () => {
  it('the text the plan and the tree rate: the ticket title, then each AC title by id', () => {
    assert.deepEqual(ticketRiskTexts(ticket, acs), [{ id: 'D301', text: 'Execution costs' }, { id: 'D301::AC-1', text: 'Log every fill' }, { id: 'D301::AC-2', text: '슬리피지 모델 추가' }]);
    const risk = assessTicketRisk({ ticketId: 'D301', texts: ticketRiskTexts(ticket, acs), modify: [], files: [], config });
    assert.deepEqual(riskWhyLines(risk), ["raised by word '슬리피지' in D301::AC-2 → HIGH"]);
    assert.deepEqual(riskWhyLines({ level: 'MED', why: [] }), ['MED is risk.default: no profit ticket, word, path rule or large scope raised it']);
  });

  it('factory dry prints a line per raise under the risk line', () => {
    const plan = { ticket_id: 'D301', ac_ids: ['D301::AC-2'], run_id: 'r', risk_level: 'HIGH', model_budget: 'standard', agent: 'replay', scope: { modify: ['a.py'], readonly: [], forbidden: ['D_ROADMAP.md'] } } as unknown as Plan;
    const d = {
      plan, risk: { level: 'HIGH', reasons: [], auditorRequired: true, why: ["word 'slippage' in D301::AC-2 → HIGH"] }, baseCommit: null,
      killSwitches: { budgetUsd: 1, timeMinutes: 1, attempts: 0, maxRetries: 3, consecutiveFails: 0, escalateAfterFails: 2 },
      auditor: { called: true, why: 'risk HIGH ≥ HIGH', agent: 'a' },
      worker: { image: 'i', user: '1000', network: 'none', limits: { memoryMb: 1, cpus: 1, pidsLimit: 1, tmpfsMb: 1, workspaceMb: 1, timeMinutes: 1 }, mounts: [] },
      gate: { runIn: 'container', guards: [], stages: [] }, adjust: { commit: true, push: false, writes: [] },
    } as unknown as DryRun;
    const lines = formatDryRun(d).split('\n');
    const at = lines.findIndex((l) => l.startsWith('risk      HIGH'));
    assert.ok(at > 0);
    assert.equal(lines[at + 1], "          raised by word 'slippage' in D301::AC-2 → HIGH");
  });

  it('the Roadmap tree’s ticket and AC tooltips carry the ticket’s text risk with its reasons (with a config)', () => {
    const index: SsotIndex = { phases: [], tickets: [ticket], ledger: acs, diagnostics: [] };
    const [phase] = buildRoadmapRows(index, config);
    const t = phase?.children[0];
    assert.ok(t?.tooltip.includes('Risk (ticket text): HIGH'), t?.tooltip);
    assert.ok(t?.children[1]?.tooltip.includes("raised by word '슬리피지' in D301::AC-2 → HIGH"), t?.children[1]?.tooltip);
    assert.ok(!buildRoadmapRows(index)[0]?.children[0]?.tooltip.includes('Risk'), 'without a config the tree is as before');
  });

  it('the Run panel gets the plan’s level and risk_reasons from the plan event', () => {
    const snaps: RunSnapshot[] = [];
    const feed = new CycleFeed({ snapshot: (s) => void snaps.push(s), resetLog: () => undefined, appendLog: () => undefined, status: () => undefined }, 1);
    const plan = { run_id: '20261125_120000_d301_abcdef0', ticket_id: 'D301', risk_level: 'CRIT', risk_reasons: ['profit ticket (evidence.profitTickets D3*) → CRIT'] } as Plan;
    feed.handle({ type: 'plan', plan, escalate: false, auditorRequired: true });
    assert.deepEqual(feed.current.risk, { level: 'CRIT', why: ['profit ticket (evidence.profitTickets D3*) → CRIT'] });
    assert.ok(runSnapshot.safeParse(snaps.at(-1)).success);
  });
});
