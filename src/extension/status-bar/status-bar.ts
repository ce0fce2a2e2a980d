import * as vscode from 'vscode';
import { DisposableStore } from '../util/disposable-store';
import { factoryRunStatusText, statusBarText, type CycleStatusView, type RunningCycleView } from './status-text';

/**
 * The Factory status bar item: phase, elapsed time and cost/budget while a cycle runs (ticking
 * every second), the last run when idle; a click opens the Run panel. The cycle calls
 * {@link FactoryStatusBar.update} with its state.
 */
export class FactoryStatusBar extends DisposableStore {
  private readonly item = this.add(vscode.window.createStatusBarItem('factory.status', vscode.StatusBarAlignment.Left, 50));
  private view: CycleStatusView = { phase: 'IDLE', budgetUsd: 1 };
  private timer: ReturnType<typeof setInterval> | undefined;
  /** A parallel run with 2+ cycles in flight: shown over the single-cycle view. */
  private run: { running: RunningCycleView[]; spentUsd: number; waiting: number } | undefined;

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

  /** A parallel run's cycles in flight (undefined: back to the single-cycle / idle text). */
  updateRun(run: { running: RunningCycleView[]; spentUsd: number; waiting: number } | undefined): void {
    this.run = run;
    this.render();
  }

  get current(): CycleStatusView {
    return this.view;
  }

  get text(): string {
    return this.item.text;
  }

  get tooltip(): string {
    return typeof this.item.tooltip === 'string' ? this.item.tooltip : '';
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private render(): void {
    const t = this.run ? factoryRunStatusText(this.run.running, this.run.spentUsd, this.run.waiting) : statusBarText(this.view, Date.now());
    this.item.text = t.text;
    this.item.tooltip = t.tooltip;
    this.item.backgroundColor = t.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }
}
