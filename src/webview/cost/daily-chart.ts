/**
 * Spend per day by model (issue 16): a stacked bar per day in plain SVG, each model a series
 * coloured from the VS Code theme (`series-N` classes in main.css), with a legend and, beside it,
 * the same figures as a text table (the chart's accessible alternative). Every element is made
 * with createElementNS / setAttribute and every string is a text node: nothing from the host
 * becomes markup, and no style attribute is written (the CSP allows none).
 */
import type { MonthCost } from '../../shared/protocol';
import { h, usd } from '../dom';

const SVG_NS = 'http://www.w3.org/2000/svg';
const BAR = 14;
const GAP = 4;
const HEIGHT = 140;
const AXIS = 18;
const LEFT = 52;

function svg(tag: string, attrs: Record<string, string | number>, ...children: Array<Node | string>): SVGElement {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

/** Money in the chart: "unpriced" for a model without a price, never "$0". */
function amount(v: number, unpriced: boolean): string {
  return unpriced ? 'unpriced' : usd(v);
}

/** The chart: one stacked column per day, a y-axis maximum and a day label every few days. */
function chartSvg(d: MonthCost['daily'], monthLabel: string): SVGElement {
  const totals = d.days.map((x) => x.usd.reduce((a, b) => a + b, 0));
  const max = Math.max(0, ...totals);
  const width = LEFT + d.days.length * (BAR + GAP);
  const root = svg('svg', { class: 'daily-chart', viewBox: `0 0 ${width} ${HEIGHT + AXIS}`, role: 'img', 'aria-label': `Spend per day by model, ${monthLabel}; the table beside lists the same figures` });
  root.appendChild(svg('line', { class: 'axis', x1: LEFT - 4, y1: HEIGHT, x2: width, y2: HEIGHT }));
  root.appendChild(svg('text', { class: 'axis-label', x: LEFT - 8, y: 10, 'text-anchor': 'end' }, usd(max)));
  root.appendChild(svg('text', { class: 'axis-label', x: LEFT - 8, y: HEIGHT, 'text-anchor': 'end' }, '$0'));
  d.days.forEach((day, i) => {
    const x = LEFT + i * (BAR + GAP);
    let y = HEIGHT;
    const col = svg('g', { class: 'day', 'data-day': day.day });
    day.usd.forEach((v, s) => {
      if (v <= 0 || max <= 0) return;
      const hgt = Math.max(1, (v / max) * (HEIGHT - 12));
      y -= hgt;
      const model = d.models[s] ?? '';
      col.appendChild(svg('rect', { class: `seg series-${s}`, x, y: y.toFixed(2), width: BAR, height: hgt.toFixed(2), 'data-model': model }, svg('title', {}, `${day.day} · ${model}: ${amount(v, d.unpriced.includes(model))}`)));
    });
    root.appendChild(col);
    const n = Number(day.day.slice(8));
    if (n === 1 || n % 5 === 0) root.appendChild(svg('text', { class: 'axis-label', x: x + BAR / 2, y: HEIGHT + AXIS - 4, 'text-anchor': 'middle' }, String(n)));
  });
  return root;
}

/** The same figures as a table: the days that had spend, a column per model, and the day's total. */
function chartTable(d: MonthCost['daily']): HTMLElement {
  const rows = d.days.filter((x) => x.usd.some((v) => v > 0));
  const someUnpriced = (x: (typeof rows)[number]) => x.usd.some((v, s) => v > 0 && d.unpriced.includes(d.models[s] ?? ''));
  return h(
    'table',
    { class: 'grid daily-table', 'aria-label': 'Spend per day by model' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Day'), ...d.models.map((m) => h('th', { scope: 'col', class: 'num' }, m)), h('th', { scope: 'col', class: 'num' }, 'Total'))),
    h(
      'tbody',
      {},
      ...rows.map((x) => h(
        'tr',
        {},
        h('th', { scope: 'row' }, x.day),
        ...x.usd.map((v, s) => h('td', { class: 'num' }, v > 0 ? amount(v, d.unpriced.includes(d.models[s] ?? '')) : '—')),
        h('td', { class: 'num' }, `${usd(x.usd.reduce((a, b) => a + b, 0))}${someUnpriced(x) ? ' incl. unpriced' : ''}`),
      )),
    ),
  );
}

/** The legend: a theme-coloured swatch per model. */
function legend(d: MonthCost['daily']): HTMLElement {
  return h('ul', { class: 'legend', 'aria-hidden': 'true' }, ...d.models.map((m, s) => h('li', {}, h('span', { class: `swatch series-${s}` }), ` ${m}${d.unpriced.includes(m) ? ' (unpriced)' : ''}`)));
}

/** The section: chart and legend, with the table beside it. */
export function dailyChart(m: MonthCost): HTMLElement {
  const d = m.daily;
  const body = d.models.length
    ? h('div', { class: 'daily' }, h('div', { class: 'daily-figure' }, chartSvg(d, m.month), legend(d)), chartTable(d))
    : h('p', { class: 'muted' }, 'No spend recorded this month.');
  return h('section', { class: 'chart daily-section', 'aria-label': `Spend per day by model, ${m.month}` }, h('h2', {}, h('span', { class: 'codicon codicon-graph', 'aria-hidden': 'true' }), ` Spend per day by model — ${m.month}`), body);
}
