/**
 * The one way the webview builds DOM: elements with classes and attributes, children as nodes or
 * strings, and strings always become text nodes. There is no path from data to markup.
 */
import { formatUsd } from '../shared/money';

export type Child = Node | string | null | undefined | false;

/** `h('div', { class: 'x' }, 'text', otherNode)` — attributes are set with setAttribute, text with text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Record<string, string>, ...children: Child[]): HTMLElementTagNameMap[K];
export function h(tag: string, attrs?: Record<string, string>, ...children: Child[]): HTMLElement;
export function h(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    // Event-handler and style attributes would be code or CSS from data; never set them from here.
    if (/^on/i.test(k) || k === 'style' || k === 'srcdoc') throw new Error(`refusing attribute ${k}`);
    el.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

/** A codicon (font icon) span. */
export function icon(name: string): HTMLElement {
  return h('span', { class: `codicon codicon-${name}`, 'aria-hidden': 'true' });
}

/** `$0.0123` with sensible precision for small model costs; `—` when unknown. */
export function usd(n: number | null): string {
  return n === null ? '—' : formatUsd(n);
}

/** `1.2 s`, `3 min 4 s`. */
export function duration(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

/** Codicon and CSS class for a status word (PASS, FAIL, …). */
export function statusIcon(status: string): { icon: string; cls: string } {
  const s = status.toUpperCase();
  if (s === 'PASS') return { icon: 'pass', cls: 'st-pass' };
  if (s === 'FAIL' || s === 'ERROR' || s === 'TIMEOUT') return { icon: 'error', cls: 'st-fail' };
  if (s === 'BLOCKED' || s === 'ABORTED') return { icon: 'circle-slash', cls: 'st-fail' };
  if (s === 'RUNNING') return { icon: 'loading', cls: 'st-running' };
  if (s === 'SKIPPED') return { icon: 'debug-step-over', cls: 'st-muted' };
  return { icon: 'circle-large-outline', cls: 'st-muted' };
}
