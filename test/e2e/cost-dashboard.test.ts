import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import type { HistoryEntry } from '../../src/core/contracts/history-entry';
import { appendHistory } from '../../src/core/history/history';
import { EXAMPLE_DIR } from './harness/session';
import { runCommand, sessionPerSuite } from './harness/suite';

type Spend = NonNullable<HistoryEntry['spend']>[number];
const worker = (agent: string, model: string, tier: string, costUsd: number, priced = true): Spend => ({ role: 'worker', agent, model, tier, costUsd, ...(priced ? {} : { priced: false }) });
const auditor = (agent: string, model: string, costUsd: number): Spend => ({ role: 'auditor', agent, model, tier: 'premium', costUsd });

/** A month of routed cycles: LOW tickets on the economy route, a HIGH one with the Auditor on another model, one unpriced model. */
const CYCLES: Array<{ day: string; ticket: string; status: 'PASS' | 'FAIL'; acs: string[]; spend: Spend[] }> = [
  { day: '03', ticket: 'D101', status: 'PASS', acs: ['D101::AC-1'], spend: [worker('codex', 'gpt-5-mini', 'economy', 0.04)] },
  { day: '03', ticket: 'D102', status: 'PASS', acs: ['D102::AC-1', 'D102::AC-2'], spend: [worker('codex', 'gpt-5-mini', 'economy', 0.06)] },
  { day: '07', ticket: 'D301', status: 'PASS', acs: ['D301::AC-1'], spend: [worker('claude-code', 'claude-sonnet-4-5', 'standard', 0.31), auditor('claude-code', 'claude-opus-4-5', 0.22)] },
  { day: '12', ticket: 'D202', status: 'FAIL', acs: ['D202::AC-1'], spend: [worker('custom', 'local-llm', 'economy', 0.05, false)] },
  { day: '12', ticket: 'D202', status: 'PASS', acs: ['D202::AC-1'], spend: [worker('claude-code', 'claude-sonnet-4-5', 'standard', 0.18)] },
];

async function prepareExample(): Promise<string> {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'factory-e2e-cost-')), 'demo-project');
  fs.cpSync(EXAMPLE_DIR, dir, { recursive: true });
  const history = path.join(dir, 'logs', 'autopilot', 'history.jsonl');
  for (const [i, c] of CYCLES.entries()) {
    const costUsd = Math.round(c.spend.reduce((a, s) => a + s.costUsd, 0) * 1e6) / 1e6;
    const w = c.spend[0];
    await appendHistory(history, {
      runId: `202611${c.day}_1${i}0000_${c.ticket.toLowerCase()}_abcdef0`, ticketId: c.ticket, acIds: c.acs, status: c.status, endedAt: `2026-11-${c.day}T1${i}:00:00Z`,
      costUsd, agent: w.agent, model: w.model, spend: c.spend,
    });
  }
  return dir;
}

function dashboardFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready >> nth=-1').frameLocator('#active-frame');
}

describe('e2e: the Cost dashboard shows the month by model, role and tier, and spend per day by model', function () {
  const session = sessionPerSuite('cost-dashboard', prepareExample);

  it('draws a stacked column per day in theme colours with the same figures in a table, and a row per model (unpriced, never $0)', async function () {
    this.timeout(120_000);
    const wb = session().workbench!;
    await runCommand(wb.page, 'Factory: Open Cost Dashboard');
    const frame = dashboardFrame(wb.page);
    await frame.locator('svg.daily-chart rect.seg').first().waitFor({ timeout: 60_000 });
    await wb.page.waitForTimeout(300);
    await wb.screenshot('cost-dashboard-01-month');

    assert.match(await frame.locator('h2.month-title').innerText(), /2026-11/);
    // 0.86 over 5 accepted ACs (D202::AC-1 counted once: its FAIL accepts nothing, its PASS does).
    assert.equal(await frame.locator('[data-figure="month-total"] .big').innerText(), '$0.8600 incl. unpriced');
    assert.equal(await frame.locator('[data-figure="per-ac"] .big').innerText(), '$0.1720 incl. unpriced');

    const segs = await frame.locator('svg.daily-chart rect.seg').evaluateAll((rs) => rs.map((r) => [r.closest('g')?.getAttribute('data-day'), r.getAttribute('data-model'), getComputedStyle(r).fill]));
    assert.deepEqual(segs.map(([day, model]) => [day, model]), [
      ['2026-11-03', 'gpt-5-mini'],
      ['2026-11-07', 'claude-sonnet-4-5'],
      ['2026-11-07', 'claude-opus-4-5'],
      ['2026-11-12', 'claude-sonnet-4-5'],
      ['2026-11-12', 'local-llm'],
    ]);
    const fills = new Map(segs.map(([, model, fill]) => [model, fill]));
    assert.equal(new Set(fills.values()).size, 4, `each model has its own colour: ${JSON.stringify([...fills])}`);
    assert.equal(await frame.locator('svg.daily-chart g.day').count(), 30, 'every day of November has its column');

    const table = await frame.locator('table.daily-table tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.children).map((c) => (c.textContent ?? '').trim())));
    // A column per model, the largest spend first.
    assert.deepEqual(await frame.locator('table.daily-table thead th').allInnerTexts(), ['Day', 'claude-sonnet-4-5', 'claude-opus-4-5', 'gpt-5-mini', 'local-llm', 'Total']);
    assert.deepEqual(table, [
      ['2026-11-03', '—', '—', '$0.1000', '—', '$0.1000'],
      ['2026-11-07', '$0.3100', '$0.2200', '—', '—', '$0.5300'],
      ['2026-11-12', '$0.1800', '—', '—', 'unpriced', '$0.2300 incl. unpriced'],
    ]);
    const byModel = await frame.locator('.group').first().locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.children).map((c) => (c.textContent ?? '').trim())));
    assert.deepEqual(byModel, [
      ['claude-sonnet-4-5', '$0.4900', '2'],
      ['claude-opus-4-5', '$0.2200', '1'],
      ['gpt-5-mini', '$0.1000', '2'],
      ['local-llm', 'unpriced', '1'],
    ]);
    const byRole = await frame.locator('.group').nth(1).locator('tbody tr th').allInnerTexts();
    assert.deepEqual(byRole, ['worker', 'auditor']);
    const byTier = await frame.locator('.group').nth(2).locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.children).map((c) => (c.textContent ?? '').trim())));
    assert.deepEqual(byTier, [['standard', '$0.4900', '2'], ['premium', '$0.2200', '1'], ['economy', '$0.1500 incl. unpriced', '3']]);
  });
});
