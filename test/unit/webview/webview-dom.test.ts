import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import type { HostMessage, RunSnapshot } from '../../../src/shared/protocol';
import { requireChromium } from '../../support/engines';
import { buildWebviewBundle, launchChromium, openWebview, PageServer, postToWebview, recorded } from './page-harness';

/** A log line a hostile project could print: markup, a script end tag, an OSC 8 link, bidi, colours, a title change. */
export const HOSTILE_LINE =
  'FAILED <img src=x onerror=alert(1)> </script><script>alert(2)</script> \x1b]8;;https://evil.example/\x07click\x1b]8;;\x07 ' +
  '\u202Eevil\u202C \x1b[31mred\x1b[0m \x1b]0;pwned\x07end';

const snapshot: RunSnapshot = {
  runId: '20261125_110000_d201_abcdef0', ticketId: 'D201', taskName: 'Spread quoting', status: 'FAIL', timestamp: '2026-11-25T11:00:00Z', durationSeconds: 5,
  timeline: [
    { name: 'PLAN', status: 'PASS', startedAt: null, durationMs: 120, steps: [] },
    { name: 'DO', status: 'PASS', startedAt: null, durationMs: 42_000, steps: [] },
    { name: 'CHECK', status: 'FAIL', startedAt: null, durationMs: 1600, steps: [{ name: 'fast', status: 'FAIL', durationMs: 610 }] },
    { name: 'ADJUST', status: 'SKIPPED', startedAt: null, durationMs: null, steps: [] },
  ],
  manifest: [{ path: 'gate.log', bytes: 1234 }], kpi: [{ key: 'tests.passed', value: '12' }], gates: [{ name: 'fast', status: 'FAIL' }],
  scopeViolations: ['engine/<b>pnl</b>.py'], audit: null, cost: { spentUsd: 0.4, budgetUsd: 1 }, note: null,
};

describe('webview front-end in Chromium (bundle under the real CSP)', function () {
  this.timeout(60_000);
  let browser: Browser | undefined;
  let server: PageServer | undefined;
  let dir: string;

  before(async function () {
    const chromium = requireChromium(this);
    dir = await buildWebviewBundle();
    server = await PageServer.start(dir);
    browser = await launchChromium(chromium);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function runPage(saved?: unknown): Promise<Page> {
    const page = await openWebview(browser!, server!, 'run', saved);
    await postToWebview(page, { type: 'run.snapshot', run: snapshot } satisfies HostMessage, { type: 'log.reset', stream: 'gate', title: 'Gate log' } satisfies HostMessage);
    return page;
  }

  it('SEC-20 a hostile log line renders as inert text: no element, no script, no link, bidi visible', async () => {
    const page = await runPage();
    await postToWebview(page, { type: 'log.append', stream: 'gate', text: `${HOSTILE_LINE}\n` } satisfies HostMessage);
    await page.waitForSelector('.log-row');
    const result = await page.evaluate(() => {
      const rows = document.querySelector('.log-rows')!;
      return {
        text: rows.textContent,
        imgs: document.querySelectorAll('img').length,
        scripts: document.querySelectorAll('script').length,
        links: rows.querySelectorAll('a').length,
        elements: Array.from(rows.querySelectorAll('*')).map((e) => e.tagName.toLowerCase()),
        red: Array.from(rows.querySelectorAll('.ansi-fg-1')).map((e) => e.textContent),
        ctl: Array.from(rows.querySelectorAll('.ctl')).map((e) => e.textContent),
        title: document.title,
        violationText: document.querySelector('.violations')?.textContent,
      };
    });
    const rec = await recorded(page);
    assert.ok(result.text?.includes('<img src=x onerror=alert(1)> </script><script>alert(2)</script>'), result.text ?? '');
    assert.equal(result.imgs, 0);
    assert.equal(result.scripts, 1, 'only the bundle');
    assert.equal(result.links, 0);
    assert.ok(result.elements.every((t) => t === 'div' || t === 'span'), result.elements.join(','));
    assert.ok(!result.text?.includes('evil.example'));
    assert.ok(!/[\u202a-\u202e]/.test(result.text ?? ''));
    assert.deepEqual(result.ctl, ['⟨U+202E⟩', '⟨U+202C⟩']);
    assert.deepEqual(result.red, ['red']);
    assert.equal(result.title, 'Factory run', 'an OSC title does not change the page');
    assert.equal(rec.alerts, 0);
    assert.deepEqual(rec.cspViolations, [], 'the bundle, its styles and fonts all load under the CSP');
    await page.close();
  });

  it('SEC-22 invalid host messages are dropped (reported by issue code) and change nothing', async () => {
    const page = await runPage();
    await page.waitForTimeout(300);
    const shown = (): Promise<string> => page.evaluate(() => document.querySelector('main')!.textContent ?? '');
    const before = await shown();
    await postToWebview(page, { type: 'log.append', stream: 'gate', text: 5 }, { type: 'html', html: '<img src=x onerror=alert(1)>' }, { type: 'run.snapshot', run: { ...snapshot, manifest: [{ path: '../x', bytes: 1 }] } });
    await page.waitForFunction(() => (window as unknown as { __rec: { posted: Array<{ type: string }> } }).__rec.posted.filter((m) => m.type === 'error').length >= 3);
    const rec = await recorded(page);
    const errors = rec.posted.filter((m) => m.type === 'error').map((m) => String(m.message));
    assert.equal(errors.length, 3);
    assert.ok(errors.every((e) => e.startsWith('invalid host message dropped')));
    assert.ok(!errors.some((e) => e.includes('onerror')));
    assert.equal(await shown(), before);
    assert.ok(before.includes('D201'));
    await page.close();
  });

  it('the log is virtualised: 200k lines keep ~a screenful of rows in the DOM, and search finds the last line', async () => {
    const page = await runPage();
    await page.evaluate(() => {
      // In chunks under the protocol's 1 MB cap, as the host sends them.
      for (let c = 0; c < 20; c++) {
        const chunk: string[] = [];
        for (let i = c * 10_000; i < (c + 1) * 10_000; i++) chunk.push(`line ${i} \x1b[32mok\x1b[0m`);
        window.postMessage({ type: 'log.append', stream: 'gate', text: chunk.join('\n') + '\n' }, '*');
      }
      window.postMessage({ type: 'log.append', stream: 'gate', text: 'needle at the end\n' }, '*');
    });
    await page.waitForFunction(() => document.querySelector('.log-status')?.textContent?.startsWith('200,001 lines'));
    const rows = await page.evaluate(() => document.querySelectorAll('.log-row').length);
    assert.ok(rows > 10 && rows < 120, `${rows} rows in the DOM`);
    await page.locator('vscode-textfield.search input').fill('needle');
    await page.waitForFunction(() => document.querySelector('.log-status')?.textContent?.includes('1/1 matches'));
    const current = await page.evaluate(() => document.querySelector('.log-row.current mark')?.textContent);
    assert.equal(current, 'needle');
    await page.close();
  });

  it('past the browser height limit (600k lines, scaled scrollbar) search still lands on the match and the end is reachable', async () => {
    const page = await runPage();
    await page.evaluate(`(() => {
      for (let c = 0; c < 60; c++) {
        const chunk = [];
        for (let i = c * 10000; i < (c + 1) * 10000; i++) chunk.push(i === 345678 ? 'the needle line' : 'row ' + i);
        window.postMessage({ type: 'log.append', stream: 'gate', text: chunk.join('\\n') + '\\n' }, '*');
      }
      window.postMessage({ type: 'log.append', stream: 'gate', text: 'the very last line\\n' }, '*');
    })()`);
    await page.waitForFunction(() => document.querySelector('.log-status')?.textContent?.startsWith('600,001 lines'));
    // Following: the last line is in view.
    await page.locator('.log-row', { hasText: 'the very last line' }).waitFor({ timeout: 10_000 });
    await page.locator('vscode-textfield.search input').fill('needle');
    await page.waitForFunction(() => document.querySelector('.log-status')?.textContent?.includes('1/1 matches'), undefined, { timeout: 20_000 });
    await page.locator('.log-row.current', { hasText: 'the needle line' }).waitFor({ timeout: 10_000 });
    const around = await page.evaluate(() => Array.from(document.querySelectorAll('.log-row')).map((r) => r.textContent));
    assert.ok(around.includes('row 345677') && around.includes('row 345679'), 'the neighbours are drawn around it');
    await page.close();
  });

  it('state survives a reload: the saved tab and search come back (getState/setState)', async () => {
    const page = await runPage();
    await postToWebview(page, { type: 'log.append', stream: 'gate', text: 'alpha\nbeta\ngamma beta\n' } satisfies HostMessage);
    await page.locator('vscode-textfield.search input').fill('beta');
    await page.waitForFunction(() => document.querySelector('.log-status')?.textContent?.includes('matches for "beta"'));
    await page.waitForTimeout(400);
    const saved = (await recorded(page)).state as { search?: string; tab?: string };
    assert.equal(saved.search, 'beta');
    assert.equal(saved.tab, 'gate');
    await page.close();

    const again = await runPage(saved);
    await postToWebview(again, { type: 'log.append', stream: 'gate', text: 'alpha\nbeta\ngamma beta\n' } satisfies HostMessage);
    await again.waitForFunction(() => document.querySelector('.log-status')?.textContent?.includes('2 matches for "beta"'));
    assert.equal(await again.locator('vscode-textfield.search').evaluate((e) => (e as HTMLInputElement).value), 'beta');
    await again.close();
  });

  it("the plan's risk reasons, the scope fallback with its setting, and the scope list (collapsed, kept open across snapshots) render as text", async () => {
    const page = await runPage();
    const planned: RunSnapshot = {
      ...snapshot,
      risk: { level: 'HIGH', why: ['the ticket text names "order" (risk.words.HIGH)'] },
      scope: {
        fallback: { why: 'nothing names a file of this repository for D201', setting: '"scope": { "overrides": { "D201": { "modify": ["<b>engine</b>/**"] } } }' },
        entries: [
          { path: 'src/**', kind: 'modify', why: ['config scope.modify (nothing derived)'] },
          { path: 'docs/<i>spec</i>.md', kind: 'readonly', why: ['config scope.readonly'] },
        ],
        more: 0,
      },
    };
    await postToWebview(page, { type: 'run.snapshot', run: planned } satisfies HostMessage);
    await page.waitForSelector('.scope-fallback');
    const shown = () =>
      page.evaluate(() => ({
        risk: document.querySelector('.risk')?.textContent,
        fallback: document.querySelector('.scope-fallback')?.textContent,
        setting: document.querySelector('.scope-fallback code')?.textContent,
        summary: document.querySelector('details.scope summary')?.textContent,
        entries: Array.from(document.querySelectorAll('details.scope li')).map((li) => li.textContent),
        open: document.querySelector<HTMLDetailsElement>('details.scope')?.open,
        markup: document.querySelectorAll('header b, header i').length,
      }));
    const first = await shown();
    assert.match(first.risk ?? '', /risk HIGH: the ticket text names "order"/);
    assert.match(first.fallback ?? '', /Scope fallback: nothing names a file of this repository for D201\. To give this ticket its own scope, add to \.factory\/config\.json:/);
    assert.equal(first.setting, planned.scope!.fallback!.setting);
    assert.equal(first.summary?.trim(), 'Scope: 1 to modify, 1 read-only');
    assert.deepEqual(first.entries, ['src/** — config scope.modify (nothing derived)', 'docs/<i>spec</i>.md (read-only) — config scope.readonly']);
    assert.equal(first.open, false, 'the list starts collapsed');
    assert.equal(first.markup, 0, 'paths and settings are text, never markup');
    await page.locator('details.scope summary').click();
    await postToWebview(page, { type: 'run.snapshot', run: { ...planned, status: 'RUNNING' } } satisfies HostMessage);
    await page.waitForFunction(() => document.querySelector('vscode-badge.status')?.textContent === 'RUNNING');
    assert.equal((await shown()).open, true, 'a new snapshot keeps the list the user opened');
    assert.deepEqual((await recorded(page)).cspViolations, []);
    await page.close();
  });

  it('the cost dashboard draws one bar per month/ticket/model, widths relative to the largest', async () => {
    const page = await openWebview(browser!, server!, 'cost');
    await postToWebview(page, {
      type: 'cost.dashboard',
      dashboard: {
        byMonth: [{ label: '2026-10', usd: 0.5, cycles: 2 }, { label: '2026-11', usd: 1, cycles: 3 }],
        byTicket: [{ label: '<b>D201</b>', usd: 1, cycles: 3 }], byAgentModel: [{ label: 'codex / gpt-5', usd: 1.5, cycles: 5 }],
        totalUsd: 1.5, cycles: 5, budgetPerCycleUsd: 1, sources: 'test', note: null, month: null,
      },
    } satisfies HostMessage);
    await page.waitForSelector('.bar-fill');
    const bars = await page.evaluate(() => Array.from(document.querySelectorAll('.chart')).map((c) => Array.from(c.querySelectorAll('.bar-row')).map((r) => [r.querySelector('.bar-label')!.textContent, (r.querySelector('.bar-fill') as HTMLElement).style.width])));
    assert.deepEqual(bars, [[['2026-10', '50%'], ['2026-11', '100%']], [['<b>D201</b>', '100%']], [['codex / gpt-5', '100%']]]);
    assert.deepEqual((await recorded(page)).cspViolations, []);
    await page.close();
  });

  it('the month\'s spend per day by model is an SVG chart in theme colours with the same figures in a table; an unpriced model reads "unpriced"', async () => {
    const page = await openWebview(browser!, server!, 'cost');
    const days = Array.from({ length: 30 }, (_, i) => ({ day: `2026-11-${String(i + 1).padStart(2, '0')}`, usd: [0, 0, 0] }));
    days[2].usd = [0.1, 0.25, 0];
    days[4].usd = [0.02, 0, 0.3];
    const row = (label: string, usd: number, cycles: number, unpriced = false) => ({ label, usd, cycles, unpriced });
    await postToWebview(page, {
      type: 'cost.dashboard',
      dashboard: {
        byMonth: [{ label: '2026-11', usd: 0.67, cycles: 3 }], byTicket: [], byAgentModel: [], totalUsd: 0.67, cycles: 3, budgetPerCycleUsd: 1, sources: 'test', note: null,
        month: {
          month: '2026-11', totalUsd: 0.67, cycles: 3, acceptedAcs: 2, usdPerAcceptedAc: 0.335, unpriced: true,
          byModel: [row('<b>local</b>', 0.3, 1, true), row('claude-opus-4-5', 0.25, 1), row('gpt-5-mini', 0.12, 2)],
          byRole: [row('worker', 0.42, 3, true), row('auditor', 0.25, 1)], byTier: [row('economy', 0.12, 2)],
          daily: { models: ['gpt-5-mini', 'claude-opus-4-5', '<b>local</b>'], unpriced: ['<b>local</b>'], days },
        },
      },
    } satisfies HostMessage);
    await page.waitForSelector('svg.daily-chart rect.seg');
    const seen = await page.evaluate(() => {
      const segs = Array.from(document.querySelectorAll('svg.daily-chart rect.seg'));
      return {
        segs: segs.map((r) => [r.closest('g')!.getAttribute('data-day'), r.getAttribute('data-model'), r.querySelector('title')!.textContent]),
        fills: [...new Set(segs.map((r) => getComputedStyle(r).fill))].length,
        heights: segs.map((r) => Number(r.getAttribute('height'))),
        table: Array.from(document.querySelectorAll('table.daily-table tr')).map((tr) => Array.from(tr.children).map((c) => c.textContent)),
        byModel: Array.from(document.querySelectorAll('.group')[0].querySelectorAll('tbody tr')).map((tr) => Array.from(tr.children).map((c) => c.textContent)),
        perAc: document.querySelector('[data-figure="per-ac"] .big')!.textContent,
        bold: document.querySelectorAll('.cost-view b').length,
        label: document.querySelector('svg.daily-chart')!.getAttribute('aria-label'),
      };
    });
    assert.deepEqual(seen.segs, [
      ['2026-11-03', 'gpt-5-mini', '2026-11-03 · gpt-5-mini: $0.1000'],
      ['2026-11-03', 'claude-opus-4-5', '2026-11-03 · claude-opus-4-5: $0.2500'],
      ['2026-11-05', 'gpt-5-mini', '2026-11-05 · gpt-5-mini: $0.0200'],
      ['2026-11-05', '<b>local</b>', '2026-11-05 · <b>local</b>: unpriced'],
    ]);
    assert.equal(seen.fills, 3, 'each model has its own theme colour');
    // Heights are relative to the largest day (0.35 on the 3rd): 0.1 + 0.25 fill the whole column.
    assert.ok(Math.abs(seen.heights[0] / seen.heights[1] - 0.4) < 0.01, String(seen.heights));
    assert.deepEqual(seen.table, [
      ['Day', 'gpt-5-mini', 'claude-opus-4-5', '<b>local</b>', 'Total'],
      ['2026-11-03', '$0.1000', '$0.2500', '—', '$0.3500'],
      ['2026-11-05', '$0.0200', '—', 'unpriced', '$0.3200 incl. unpriced'],
    ]);
    assert.deepEqual(seen.byModel, [['<b>local</b>', 'unpriced', '1'], ['claude-opus-4-5', '$0.2500', '1'], ['gpt-5-mini', '$0.1200', '2']]);
    assert.equal(seen.perAc, '$0.3350 incl. unpriced');
    assert.equal(seen.bold, 0, 'labels are text, never markup');
    assert.match(seen.label ?? '', /Spend per day by model, 2026-11/);
    assert.deepEqual((await recorded(page)).cspViolations, []);
    await page.close();
  });

  it('the Run panel shows a row per role (agent, model, tier, spend, why), the Auditor reserve and the override; unpriced never reads $0', async () => {
    const page = await openWebview(browser!, server!, 'run');
    const role = (r: 'controller' | 'worker' | 'auditor', agent: string | null, model: string, tier: string | null, spentUsd: number | null, extra: Record<string, unknown> = {}) =>
      ({ role: r, agent, model, tier, why: [], spentUsd, unpriced: false, spend: [], ...extra });
    const run: RunSnapshot = {
      ...snapshot,
      routing: {
        roles: [
          role('controller', null, 'claude-sonnet-4-5', null, 0.01),
          role('worker', 'codex', '<i>local</i>', 'economy', 0.1, { unpriced: true, why: ['risk LOW → routing.levels.LOW.worker'], spend: [{ model: '<i>local</i>', usd: 0.1, unpriced: true, requests: 2 }] }),
          role('auditor', 'claude-code', 'claude-opus-4-5', 'premium', null, { why: ['risk HIGH → routing.levels.HIGH.auditor'] }),
        ],
        reserveUsd: 0.4,
        override: '--agent codex',
      },
    };
    await postToWebview(page, { type: 'run.snapshot', run } satisfies HostMessage);
    await page.waitForSelector('tr.role-row');
    const rows = await page.evaluate(() => Array.from(document.querySelectorAll('tr.role-row')).map((tr) => [tr.getAttribute('data-role'), ...Array.from(tr.children).map((c) => c.textContent.trim())]));
    assert.deepEqual(rows, [
      ['controller', 'Controller', 'Controller model', 'claude-sonnet-4-5', '—', '$0.0100', ''],
      ['worker', 'Worker', 'codex', '<i>local</i>', 'economy', 'unpriced', 'risk LOW → routing.levels.LOW.worker'],
      ['auditor', 'Auditor', 'claude-code', 'claude-opus-4-5', 'premium', '—', 'risk HIGH → routing.levels.HIGH.auditor'],
    ]);
    assert.match(await page.locator('.reserve').innerText(), /Auditor reserve: \$0\.4000/);
    assert.match(await page.locator('.override').innerText(), /Override: --agent codex/);
    assert.equal(await page.locator('.run-view i').count(), 0, 'a model name is text, never markup');
    assert.deepEqual((await recorded(page)).cspViolations, []);
    // A past run's roles (no reasons recorded): no empty Why column.
    await postToWebview(page, { type: 'run.snapshot', run: { ...run, routing: { roles: [role('worker', 'codex', 'gpt-5-mini', 'economy', 0.1)], reserveUsd: null, override: null } } } satisfies HostMessage);
    await page.waitForFunction(() => document.querySelectorAll('tr.role-row').length === 1);
    assert.deepEqual(await page.locator('table.roles thead th').allInnerTexts(), ['Role', 'Agent', 'Model', 'Tier', 'Spent']);
    assert.equal(await page.locator('.reserve').count(), 0);
    // A run without routing shows no roles table.
    await postToWebview(page, { type: 'run.snapshot', run: snapshot } satisfies HostMessage);
    await page.waitForFunction(() => document.querySelectorAll('tr.role-row').length === 0);
    await page.close();
  });
});

