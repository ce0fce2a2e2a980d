/**
 * The Cost dashboard: spend per month, per ticket and per agent/model as horizontal CSS bar charts
 * (bar widths set through CSSOM, allowed by the CSP), with the per-cycle budget for scale.
 */
import type { CostBar, CostDashboard, WebviewMessage } from '../../shared/protocol';
import { h, icon, usd } from '../dom';

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
