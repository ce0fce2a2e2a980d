/**
 * The Run panel's cycle selector (issue 18): one button per cycle of the factory run — ticket,
 * phase (or final status) and spend — the followed one pressed. A click asks the host to follow
 * that cycle (`followRun`); the host answers with its snapshot and its buffered output. Hidden
 * while the run has fewer than two cycles (a serial run looks as it always did).
 */
import type { CycleChoice, WebviewMessage } from '../../shared/protocol';
import { h, icon, statusIcon, usd } from '../dom';

export class CyclesView {
  readonly element = h('nav', { class: 'cycles', 'aria-label': 'Cycles of the run' });
  private followedId: string | null = null;

  constructor(private readonly post: (m: WebviewMessage) => void) {
    this.element.hidden = true;
  }

  get followed(): string | null {
    return this.followedId;
  }

  render(cycles: readonly CycleChoice[], followed: string | null): void {
    this.followedId = followed;
    this.element.hidden = cycles.length < 2;
    this.element.replaceChildren(
      ...cycles.map((c) => {
        const st = statusIcon(c.status);
        const pressed = c.runId === followed;
        const label = `${c.ticketId ?? c.runId} · ${c.status === 'RUNNING' ? (c.phase ?? 'starting') : c.status} · ${usd(c.spentUsd)}`;
        const b = h('button', { class: `cycle-chip ${st.cls}${pressed ? ' followed' : ''}`, type: 'button', 'aria-pressed': String(pressed), 'data-run-id': c.runId, title: `Follow run ${c.runId}` }, icon(c.status === 'RUNNING' ? 'sync' : st.icon), ` ${label}`);
        b.addEventListener('click', () => {
          if (c.runId !== this.followedId) this.post({ type: 'followRun', runId: c.runId });
        });
        return b;
      }),
    );
  }
}
