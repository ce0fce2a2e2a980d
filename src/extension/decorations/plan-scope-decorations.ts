import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Logger } from '../../core/util/log';
import { factoryPaths } from '../ssot/factory-paths';
import { RecordsWatcher } from '../ssot/records-watcher';
import type { SsotStore } from '../ssot/ssot-store';
import { debounce } from '../util/debounce';
import { DisposableStore } from '../util/disposable-store';
import { PLAN_FILE, readPlanScope, repoRelative, scopeDecoration, type PlanScope } from './plan-scope';

/** plan.json is written atomically (temp file + rename): one reload per burst of events. */
export const PLAN_RELOAD_DEBOUNCE_MS = 200;

/**
 * Marks the workspace's files that the current plan (`<paths.autopilot>/plan.json`) puts in scope:
 * modify / readonly / forbidden, with a badge, a tooltip and a theme colour. Reloads when plan.json
 * changes and when the store refreshes (the config may move it). An invalid plan is ignored with a
 * warning in the log. The matching is plan-scope.ts's; this class only wires it to VS Code.
 */
export class PlanScopeDecorations extends DisposableStore implements vscode.FileDecorationProvider {
  private readonly changed = this.add(new vscode.EventEmitter<undefined>());
  readonly onDidChangeFileDecorations = this.changed.event;
  private scope: PlanScope | undefined;
  private root: string | undefined;
  private lastProblem: string | undefined;
  private readonly scheduled = this.add(debounce(() => this.reload(), PLAN_RELOAD_DEBOUNCE_MS));
  private readonly records = this.add(new RecordsWatcher((p) => [`${p.autopilot}/${PLAN_FILE}`], () => this.scheduled.trigger()));

  constructor(
    private readonly store: SsotStore,
    private readonly log: Logger,
  ) {
    super();
    this.add(vscode.window.registerFileDecorationProvider(this));
    this.add(store.onDidChange(() => this.reload()));
    this.reload();
  }

  /** The plan whose scope is shown (for the tests and the log). */
  get current(): { ticketId: string; runId: string } | undefined {
    return this.scope && { ticketId: this.scope.ticketId, runId: this.scope.runId };
  }

  /** Re-read plan.json now and ask VS Code to ask again for every decoration. */
  reload(): void {
    if (this.isDisposed) return;
    const paths = factoryPaths(this.store.state);
    this.records.follow(paths);
    const before = this.scope?.runId;
    this.scope = undefined;
    this.root = paths?.root.scheme === 'file' ? paths.root.fsPath : undefined;
    if (paths && this.root) {
      const file = path.join(this.root, ...paths.autopilot.split('/'), PLAN_FILE);
      const read = readPlanScope(file);
      if (read.kind === 'ok') {
        this.scope = read.scope;
        this.lastProblem = undefined;
      } else if (read.kind === 'invalid' && read.message !== this.lastProblem) {
        this.lastProblem = read.message;
        this.log.warn(`plan scope decorations: ignoring ${paths.autopilot}/${PLAN_FILE}: ${read.message}`);
      }
    }
    if (this.scope?.runId !== before) this.log.debug(`plan scope decorations: ${this.scope ? `plan ${this.scope.runId} (${this.scope.ticketId})` : 'no plan'}`);
    this.changed.fire(undefined);
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    if (!this.scope || !this.root || uri.scheme !== 'file') return undefined;
    const rel = repoRelative(this.root, uri.fsPath);
    const d = rel === undefined ? undefined : scopeDecoration(this.scope, rel);
    if (!d) return undefined;
    return new vscode.FileDecoration(d.badge, d.tooltip, new vscode.ThemeColor(d.color));
  }
}
