import * as vscode from 'vscode';
import { DisposableStore } from '../util/disposable-store';
import { statusBarText, type CycleStatusView } from './status-text';

/**
 * The Factory status bar item: phase, elapsed time and cost/budget while a cycle runs (ticking
 * every second), the last run when idle; a click opens the Run panel. The cycle calls
 * {@link FactoryStatusBar.update} with its state.
 */
export class FactoryStatusBar extends DisposableStore {
  private readonly item = this.add(vscode.window.createStatusBarItem('factory.status', vscode.StatusBarAlignment.Left, 50));
  private view: CycleStatusView = { phase: 'IDLE', budgetUsd: 1 };
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    this.item.name = 'Agentic Factory';
    this.item.command = 'factory.runPanel.open';
    this.add({ dispose: () => this.stopTimer() });
    this.render();
    this.item.show();
  }

  /** Shows a new state; a running phase keeps the elapsed time ticking. */
  update(view: CycleStatusView): void {
    this.view = view;
    if (view.phase === 'IDLE') this.stopTimer();
    else this.timer ??= setInterval(() => this.render(), 1000);
    this.render();
  }

  get current(): CycleStatusView {
    return this.view;
  }

  get text(): string {
    return this.item.text;
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private render(): void {
    const t = statusBarText(this.view, Date.now());
    this.item.text = t.text;
    this.item.tooltip = t.tooltip;
    this.item.backgroundColor = t.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }
}
