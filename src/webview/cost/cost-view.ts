/**
 * The Cost dashboard: the newest month's cost (total, per accepted AC, by model / role / tier, and
 * spend per day by model as an SVG chart with a table beside it), then spend per month, per ticket
 * and per agent/model as horizontal CSS bar charts (bar widths set through CSSOM, allowed by the
 * CSP), with the per-cycle budget for scale. A model without a price reads "unpriced", never "$0".
 */
import type { CostBar, CostDashboard, CostRow, MonthCost, WebviewMessage } from '../../shared/protocol';
import { h, icon, usd } from '../dom';
import { dailyChart } from './daily-chart';

export class CostView {
  readonly element: HTMLElement;

  constructor(private readonly post: (m: WebviewMessage) => void) {
    this.element = h('main', { class: 'cost-view' }, h('h1', {}, 'Cost'), h('p', { class: 'muted' }, 'Waiting for the extension…'));
  }

  render(d: CostDashboard): void {
    const refresh = h('vscode-button', { secondary: '', 'aria-label': 'Refresh' }, icon('refresh'), ' Refresh');
    refresh.addEventListener('click', () => this.post({ type: 'refresh' }));
    const open = h('vscode-button', { secondary: '', 'aria-label': 'Open the Run panel' }, icon('pulse'), ' Run panel');
    open.addEventListener('click', () => this.post({ type: 'openRunPanel' }));
    this.element.replaceChildren(...[
      h('div', { class: 'title-row' }, h('h1', {}, 'Cost'), h('span', { class: 'spacer' }), open, refresh),
      h(
        'div',
        { class: 'totals' },
        h('div', { class: 'total' }, h('div', { class: 'big' }, usd(d.totalUsd)), h('div', { class: 'muted' }, 'total spend')),
        h('div', { class: 'total' }, h('div', { class: 'big' }, String(d.cycles)), h('div', { class: 'muted' }, 'cycles')),
        h('div', { class: 'total' }, h('div', { class: 'big' }, usd(d.cycles ? d.totalUsd / d.cycles : 0)), h('div', { class: 'muted' }, 'per cycle')),
        h('div', { class: 'total' }, h('div', { class: 'big' }, usd(d.budgetPerCycleUsd)), h('div', { class: 'muted' }, 'budget per cycle')),
      ),
      d.note ? h('p', { class: 'note' }, icon('info'), ` ${d.note}`) : null,
      ...(d.month ? monthSection(d.month) : []),
      chart('Per month', d.byMonth, 'calendar'),
      chart('Per ticket', d.byTicket, 'tag'),
      chart('Per agent / model', d.byAgentModel, 'hubot'),
      h('p', { class: 'muted sources' }, `Sources: ${d.sources}`),
    ].filter((n): n is HTMLElement => n !== null));
  }
}

function chart(title: string, bars: CostBar[], iconName: string): HTMLElement {
  const max = Math.max(0, ...bars.map((b) => b.usd));
  const rows = bars.map((b) => {
    const fill = h('div', { class: 'bar-fill' });
    fill.style.width = `${max > 0 ? ((b.usd / max) * 100).toFixed(1) : 0}%`;
    return h(
      'div',
      { class: 'bar-row', role: 'listitem' },
      h('div', { class: 'bar-label', title: b.label }, b.label),
      h('div', { class: 'bar-track' }, fill),
      h('div', { class: 'bar-value' }, `${usd(b.usd)} · ${b.cycles} cycle${b.cycles === 1 ? '' : 's'}`),
    );
  });
  return h(
    'section',
    { class: 'chart', 'aria-label': title },
    h('h2', {}, icon(iconName), ` ${title}`),
    rows.length ? h('div', { class: 'bars', role: 'list' }, ...rows) : h('p', { class: 'muted' }, 'No spend recorded yet.'),
  );
}

/** A row's spend: "unpriced" for a model without a price (the figure is only the budget's ceiling charge). */
function rowMoney(r: CostRow, model: boolean): string {
  if (r.unpriced && model) return 'unpriced';
  return r.unpriced ? `${usd(r.usd)} incl. unpriced` : usd(r.usd);
}

/** The month's cards, the daily chart and the by-model / by-role / by-tier tables. */
function monthSection(m: MonthCost): HTMLElement[] {
  const extra = m.unpriced ? ' incl. unpriced' : '';
  const perAc = m.usdPerAcceptedAc === null ? '—' : `${usd(m.usdPerAcceptedAc)}${extra}`;
  return [
    h('h2', { class: 'month-title' }, icon('calendar'), ` ${m.month}`),
    h(
      'div',
      { class: 'totals month-totals' },
      h('div', { class: 'total', 'data-figure': 'month-total' }, h('div', { class: 'big' }, `${usd(m.totalUsd)}${extra}`), h('div', { class: 'muted' }, `spend in ${m.month}`)),
      h('div', { class: 'total', 'data-figure': 'per-ac' }, h('div', { class: 'big' }, perAc), h('div', { class: 'muted' }, `per accepted AC (${m.acceptedAcs} accepted)`)),
      h('div', { class: 'total' }, h('div', { class: 'big' }, String(m.cycles)), h('div', { class: 'muted' }, `cycles in ${m.month}`)),
    ),
    dailyChart(m),
    h('div', { class: 'groups' }, groupTable('By model', m.byModel, true), groupTable('By role', m.byRole, false), groupTable('By tier', m.byTier, false)),
  ];
}

function groupTable(title: string, rows: CostRow[], model: boolean): HTMLElement {
  return h(
    'section',
    { class: 'group', 'aria-label': `${title}` },
    h('h3', {}, title),
    rows.length
      ? h(
          'table',
          { class: 'grid' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, title.replace('By ', '').replace(/^./, (c) => c.toUpperCase())), h('th', { scope: 'col', class: 'num' }, 'Spend'), h('th', { scope: 'col', class: 'num' }, 'Cycles'))),
          h('tbody', {}, ...rows.map((r) => h('tr', { class: r.unpriced ? 'unpriced' : '' }, h('th', { scope: 'row' }, r.label), h('td', { class: 'num spend' }, rowMoney(r, model)), h('td', { class: 'num' }, String(r.cycles))))),
        )
      : h('p', { class: 'muted' }, 'Nothing recorded.'),
  );
}
