/**
 * The Run panel: PDCA timeline with durations, cost against the cycle's budget, the Gate and Worker
 * logs (virtualised, ANSI-safe, searchable), and the evidence manifest, KPI, gates, scope
 * violations and audit verdict. Every string from the host is put in with text nodes (dom.ts).
 */
import type { CycleChoice, LogStream, RunSnapshot, TimelinePhase, WebviewMessage, WebviewState } from '../../shared/protocol';
import { duration, h, icon, statusIcon, usd } from '../dom';
import { LogView } from '../log/log-view';
import { CyclesView } from './cycles-view';
import { rolesContent } from './roles-view';

type Post = (m: WebviewMessage) => void;

const TABS = ['gate', 'worker', 'evidence'] as const;

/** A phase's time, with what it did when the time alone does not say it (the Gate from cache, nothing applied …). */
export function phaseTime(p: Pick<TimelinePhase, 'status' | 'durationMs' | 'detail'>): string {
  if (p.detail) return p.durationMs === null ? p.detail : `${duration(p.durationMs)} · ${p.detail}`;
  return p.status === 'UNKNOWN' ? 'not recorded' : duration(p.durationMs);
}

export class RunView {
  readonly element: HTMLElement;
  private readonly header = h('header', { class: 'run-header' });
  private readonly timeline = h('section', { class: 'timeline', 'aria-label': 'PDCA timeline' });
  private readonly evidence = h('div', { class: 'evidence' });
  private readonly logs: Record<LogStream, LogView>;
  private readonly logTitles: Record<LogStream, HTMLElement>;
  private readonly tabs: HTMLElement;
  private readonly search: HTMLElement & { value: string };
  private tab: (typeof TABS)[number] = 'gate';
  private run: RunSnapshot | undefined;
  /** The factory run's cycles: which one the panel follows. */
  readonly cycles: CyclesView;

  constructor(
    private readonly post: Post,
    private readonly saveState: () => void,
    initial: WebviewState | undefined,
  ) {
    this.cycles = new CyclesView(post);
    this.logs = { gate: new LogView(document), worker: new LogView(document) };
    this.logTitles = { gate: h('div', { class: 'log-title' }), worker: h('div', { class: 'log-title' }) };
    for (const l of Object.values(this.logs)) l.onStateChange = () => this.saveState();

    this.search = h('vscode-textfield', { placeholder: 'Search the log (Enter: next, Shift+Enter: previous)', class: 'search', 'aria-label': 'Search the log' });
    this.search.appendChild(h('span', { slot: 'content-before', class: 'codicon codicon-search' }));
    let debounce: ReturnType<typeof setTimeout> | undefined;
    this.search.addEventListener('input', () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => this.activeLog()?.setQuery(this.search.value), 120);
    });
    this.search.addEventListener('keydown', (e: KeyboardEvent) => {
      if (e.key !== 'Enter') return;
      clearTimeout(debounce);
      const log = this.activeLog();
      if (!log) return;
      if (log.state.search !== this.search.value) log.setQuery(this.search.value);
      else log.next(e.shiftKey);
    });

    this.tabs = h(
      'vscode-tabs',
      { 'selected-index': String(Math.max(0, TABS.indexOf((initial?.tab as (typeof TABS)[number]) ?? 'gate'))) },
      h('vscode-tab-header', { slot: 'header' }, icon('checklist'), ' Gate log'),
      h('vscode-tab-panel', {}, this.logPane('gate')),
      h('vscode-tab-header', { slot: 'header' }, icon('terminal'), ' Worker log'),
      h('vscode-tab-panel', {}, this.logPane('worker')),
      h('vscode-tab-header', { slot: 'header' }, icon('files'), ' Evidence'),
      h('vscode-tab-panel', {}, this.evidence),
    );
    this.tabs.addEventListener('vsc-tabs-select', (e: Event) => {
      const idx = (e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex;
      this.tab = TABS[idx] ?? 'gate';
      const log = this.activeLog();
      if (log) {
        this.search.value = log.state.search;
        log.render();
      }
      this.saveState();
    });
    if (initial?.tab && (TABS as readonly string[]).includes(initial.tab)) this.tab = initial.tab as (typeof TABS)[number];
    if (initial?.search) this.search.value = initial.search;
    this.pendingRestore = initial;

    this.element = h('main', { class: 'run-view' }, this.cycles.element, this.header, this.timeline, h('div', { class: 'toolbar' }, this.search), this.tabs);
    this.renderSnapshot(undefined);
  }

  /** Saved log position to re-apply once the host has streamed the log again. */
  private pendingRestore: WebviewState | undefined;

  private logPane(stream: LogStream): HTMLElement {
    return h('div', { class: 'log-pane', 'data-stream': stream }, h('div', { class: 'log-toolbar' }, this.logTitles[stream]), this.logs[stream].element);
  }

  private activeLog(): LogView | undefined {
    return this.tab === 'evidence' ? undefined : this.logs[this.tab];
  }

  /** What setState keeps. */
  state(): WebviewState {
    const log = this.logs[this.tab === 'worker' ? 'worker' : 'gate'];
    const s = log.state;
    return { view: 'run', tab: this.tab, search: s.search || undefined, scrollLine: s.scrollLine, follow: s.follow, stream: this.tab === 'worker' ? 'worker' : 'gate' };
  }

  renderCycles(cycles: readonly CycleChoice[], followed: string | null): void {
    this.cycles.render(cycles, followed);
  }

  resetLog(stream: LogStream, title: string): void {
    this.logs[stream].clear();
    this.logTitles[stream].textContent = title;
  }

  appendLog(stream: LogStream, text: string): void {
    const log = this.logs[stream];
    log.append(text);
    const r = this.pendingRestore;
    if (r && (r.stream ?? 'gate') === stream) {
      this.pendingRestore = undefined;
      log.restore({ search: r.search ?? '', scrollLine: r.scrollLine ?? 0, follow: r.follow ?? true });
    }
  }

  renderSnapshot(run: RunSnapshot | undefined): void {
    this.run = run;
    this.header.replaceChildren(...this.headerContent(run));
    this.timeline.replaceChildren(...(run?.timeline ?? []).map((p) => {
      const st = statusIcon(p.status);
      return h(
        'div',
        { class: `phase ${st.cls}`, 'data-phase': p.name },
        h('div', { class: 'phase-name' }, icon(st.icon), ` ${p.name}`),
        h('div', { class: 'phase-duration' }, phaseTime(p)),
        p.steps.length ? h('ul', { class: 'steps' }, ...p.steps.map((s) => h('li', { class: statusIcon(s.status).cls }, icon(statusIcon(s.status).icon), ` ${s.name} `, h('span', { class: 'muted' }, duration(s.durationMs))))) : null,
      );
    }));
    this.evidence.replaceChildren(...this.evidenceContent(run));
  }

  private headerContent(run: RunSnapshot | undefined): Node[] {
    if (!run) return [h('h1', {}, 'Run'), h('p', { class: 'muted' }, 'Waiting for the extension…')];
    const st = statusIcon(run.status);
    const title = h('h1', {}, run.ticketId ? `${run.ticketId}${run.taskName ? ` — ${run.taskName}` : ''}` : 'No run yet');
    const badge = h('span', { class: 'status-row' }, h('span', { class: `status-icon ${st.cls}` }, icon(st.icon)), ' ', h('vscode-badge', { class: 'status' }, run.status));
    const refresh = h('vscode-button', { secondary: '', 'aria-label': 'Refresh' }, icon('refresh'), ' Refresh');
    refresh.addEventListener('click', () => this.post({ type: 'refresh' }));
    const spent = run.cost.spentUsd;
    const ratio = spent === null ? 0 : Math.min(1, spent / run.cost.budgetUsd);
    const meterFill = h('div', { class: `meter-fill${spent !== null && spent >= run.cost.budgetUsd ? ' over' : ''}` });
    // CSSOM write (allowed by the CSP), not a style attribute.
    meterFill.style.width = `${(ratio * 100).toFixed(1)}%`;
    const cost = h(
      'div',
      { class: 'cost', title: 'Model spend against the cycle budget' },
      icon('credit-card'),
      ` ${usd(spent)} / ${usd(run.cost.budgetUsd)}`,
      h('div', { class: 'meter', role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': String(run.cost.budgetUsd), 'aria-valuenow': String(spent ?? 0) }, meterFill),
    );
    const meta = h('div', { class: 'muted meta' }, [run.runId ? `run ${run.runId}` : null, run.timestamp, run.durationSeconds !== null ? duration(run.durationSeconds * 1000) : null].filter(Boolean).join(' · '));
    // The cost gate's decision (spec §7-1) with its reasons: why this run pays for the model it does.
    const risk = run.risk ? h('p', { class: 'muted risk', 'data-risk': run.risk.level }, icon('shield'), ` risk ${run.risk.level}${run.risk.why.length ? `: ${run.risk.why.join('; ')}` : ' (the default)'}`) : null;
    return [h('div', { class: 'title-row' }, title, badge, h('span', { class: 'spacer' }), cost, refresh), meta, risk, ...rolesContent(run), ...this.scopeContent(run), run.note ? h('p', { class: 'note' }, icon('info'), ` ${run.note}`) : null].filter((n): n is HTMLElement => n !== null);
  }

  /** Whether the user opened the scope list (the header is rebuilt on every snapshot). */
  private scopeOpen = false;

  /**
   * The plan's scope: a loud line when the config default stands in for a derived scope (with the
   * exact setting to add), and the entries with their reasons as a list collapsed by default.
   */
  private scopeContent(run: RunSnapshot): HTMLElement[] {
    const scope = run.scope;
    if (!scope) return [];
    const out: HTMLElement[] = [];
    if (scope.fallback) {
      out.push(h('p', { class: 'note scope-fallback', role: 'status' }, icon('warning'), ` Scope fallback: ${scope.fallback.why}. To give this ticket its own scope, add to .factory/config.json: `, h('code', {}, scope.fallback.setting)));
    }
    const count = (kind: 'modify' | 'readonly') => scope.entries.filter((e) => e.kind === kind).length;
    const items = scope.entries.map((e) => h('li', {}, h('code', {}, e.path), e.kind === 'readonly' ? ' (read-only)' : '', e.why.length ? ` — ${e.why.join('; ')}` : ''));
    if (scope.more) items.push(h('li', { class: 'muted' }, `… and ${scope.more} more`));
    const details = h('details', { class: 'scope' }, h('summary', { class: 'muted' }, icon('list-tree'), ` Scope: ${count('modify')} to modify, ${count('readonly')} read-only${scope.more ? ` (+${scope.more})` : ''}`), h('ul', {}, ...items));
    details.open = this.scopeOpen;
    details.addEventListener('toggle', () => (this.scopeOpen = details.open));
    out.push(details);
    return out;
  }

  private evidenceContent(run: RunSnapshot | undefined): Node[] {
    if (!run?.runId) return [h('p', { class: 'muted' }, 'No evidence run yet.')];
    const runId = run.runId;
    const files = h(
      'table',
      { class: 'grid' },
      h('thead', {}, h('tr', {}, h('th', {}, 'File'), h('th', {}, 'Bytes'))),
      h('tbody', {}, ...run.manifest.map((f) => {
        const link = h('a', { href: '#', class: 'file-link' }, f.path);
        link.addEventListener('click', (e) => {
          e.preventDefault();
          this.post({ type: 'openEvidence', runId, file: f.path });
        });
        return h('tr', {}, h('td', {}, icon('file'), ' ', link), h('td', { class: 'num' }, f.bytes === null ? '—' : f.bytes.toLocaleString('en-US')));
      })),
    );
    const kpi = h('table', { class: 'grid' }, h('tbody', {}, ...run.kpi.map((k) => h('tr', {}, h('th', {}, k.key), h('td', {}, k.value)))));
    const gates = h('ul', { class: 'gates' }, ...run.gates.map((g) => h('li', { class: statusIcon(g.status).cls }, icon(statusIcon(g.status).icon), ` ${g.name}: ${g.status}`)));
    const scope = run.scopeViolations.length
      ? h('ul', { class: 'violations st-fail' }, ...run.scopeViolations.map((v) => h('li', {}, icon('warning'), ` ${v}`)))
      : h('p', { class: 'muted' }, 'No scope violations recorded.');
    const audit = run.audit ? h('p', { class: statusIcon(run.audit.verdict).cls }, icon('law'), ` ${run.audit.verdict}: ${run.audit.summary}`) : h('p', { class: 'muted' }, 'No audit for this run.');
    return [
      h('div', { class: 'evidence-grid' },
        h('section', {}, h('h2', {}, 'Manifest'), files),
        h('section', {}, h('h2', {}, 'KPI'), kpi, h('h2', {}, 'Gates'), gates, h('h2', {}, 'Scope'), scope, h('h2', {}, 'Audit'), audit)),
    ];
  }

  /** The current snapshot (for tests and the state). */
  get snapshot(): RunSnapshot | undefined {
    return this.run;
  }
}
