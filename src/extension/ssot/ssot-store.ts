import * as vscode from 'vscode';
import type { FactoryConfig } from '../../core/config/schema';
import type { Diagnostic, SsotIndex } from '../../core/ssot/model';
import { FactoryError, errorMessage } from '../../core/util/errors';
import type { Logger } from '../../core/util/log';
import { debounce } from '../util/debounce';
import { DisposableStore } from '../util/disposable-store';

/** The core functions the store needs; extension.ts hands in the real ones, tests may wrap them. */
export interface SsotServices {
  loadConfig(root: string): Promise<{ config: FactoryConfig; diagnostics: Diagnostic[]; file?: string }>;
  indexWorkspace(root: string, config: FactoryConfig, opts: { signal: AbortSignal }): Promise<SsotIndex>;
}

/** What the views show: one of these at a time. `kind` is also the `factory.ssotState` context key. */
export type SsotState =
  | { kind: 'loading' }
  | { kind: 'noFolder' }
  | { kind: 'missing'; root: vscode.Uri; reason: string }
  | { kind: 'error'; root: vscode.Uri; message: string }
  | {
      kind: 'ready';
      root: vscode.Uri;
      config: FactoryConfig;
      configFile?: string;
      configDiagnostics: Diagnostic[];
      index: SsotIndex;
    };

/** The context key `viewsWelcome` and menus use to tell the states apart. */
export const SSOT_STATE_CONTEXT_KEY = 'factory.ssotState';
/** Saving a file fires several events; one re-index per burst. */
export const REFRESH_DEBOUNCE_MS = 300;
const CONFIG_PATH = '.factory/config.json';

/**
 * Holds the SSOT index of the (first) workspace folder and keeps it fresh: re-indexes when the
 * roadmap, the ledger, an extra roadmap or `.factory/config.json` changes on disk (debounced), and
 * cancels a stale run when a newer one starts. Views and diagnostics subscribe to `onDidChange`.
 */
export class SsotStore extends DisposableStore {
  private readonly changed = this.add(new vscode.EventEmitter<SsotState>());
  /** Fires after every refresh with the new state. */
  readonly onDidChange = this.changed.event;
  private current: SsotState = { kind: 'loading' };
  private generation = 0;
  private running: AbortController | undefined;
  private watcher: vscode.Disposable | undefined;
  private watchedGlob = '';
  private readonly scheduled = this.add(debounce(() => void this.refresh(), REFRESH_DEBOUNCE_MS));

  constructor(
    private readonly services: SsotServices,
    private readonly log: Logger,
  ) {
    super();
    this.add({ dispose: () => this.running?.abort() });
    this.add({ dispose: () => this.watcher?.dispose() });
    this.add(vscode.workspace.onDidChangeWorkspaceFolders(() => this.scheduleRefresh()));
  }

  get state(): SsotState {
    return this.current;
  }

  /** Re-index soon (coalesced with other triggers). */
  scheduleRefresh(): void {
    this.scheduled.trigger();
  }

  /** Re-read config and documents now; resolves with the state it produced (or a newer one). */
  async refresh(): Promise<SsotState> {
    const generation = ++this.generation;
    this.running?.abort();
    const controller = new AbortController();
    this.running = controller;
    const folder = vscode.workspace.workspaceFolders?.[0];
    let next: SsotState;
    if (!folder) {
      next = { kind: 'noFolder' };
    } else {
      next = await this.load(folder, controller.signal);
    }
    // A newer refresh started while this one ran: its result wins, drop ours.
    if (generation !== this.generation || this.isDisposed) return this.current;
    this.running = undefined;
    this.current = next;
    if (folder) this.watch(folder, next);
    // The views first: the context key is a round trip to the workbench, which is busy rendering
    // at start-up; waiting for it before filling the trees cost hundreds of ms of activation.
    this.changed.fire(next);
    try {
      await vscode.commands.executeCommand('setContext', SSOT_STATE_CONTEXT_KEY, next.kind);
    } catch (err) {
      // Only the welcome text depends on it; the views already have the new state.
      this.log.warn(`could not set ${SSOT_STATE_CONTEXT_KEY}: ${errorMessage(err)}`);
    }
    return next;
  }

  private async load(folder: vscode.WorkspaceFolder, signal: AbortSignal): Promise<SsotState> {
    const root = folder.uri;
    const started = Date.now();
    try {
      const { config, diagnostics, file } = await this.services.loadConfig(root.fsPath);
      const index = await this.services.indexWorkspace(root.fsPath, config, { signal });
      this.log.info(
        `indexed ${root.fsPath}: ${index.phases.length} phases, ${index.tickets.length} tickets, ` +
          `${index.ledger.length} ledger rows, ${index.diagnostics.length + diagnostics.length} diagnostics in ${Date.now() - started} ms`,
      );
      return { kind: 'ready', root, config, configDiagnostics: diagnostics, index, ...(file ? { configFile: file } : {}) };
    } catch (err) {
      if (err instanceof FactoryError && err.code === 'ssot.missing') {
        this.log.info(`no SSOT documents in ${root.fsPath}: ${err.message}`);
        return { kind: 'missing', root, reason: err.message };
      }
      this.log.error(err instanceof Error ? err : errorMessage(err));
      return { kind: 'error', root, message: errorMessage(err) };
    }
  }

  /** (Re)creates the file watcher when the set of SSOT paths changed (they come from the config). */
  private watch(folder: vscode.WorkspaceFolder, state: SsotState): void {
    const paths = new Set<string>([CONFIG_PATH]);
    const ssot = state.kind === 'ready' ? state.config.ssot : undefined;
    if (ssot) {
      for (const p of [ssot.roadmap, ssot.ledger, ssot.rules, ...ssot.extraRoadmaps]) paths.add(p);
    } else {
      // No usable config: watch the spec's default layout so creating the documents shows them.
      for (const p of ['D_ROADMAP.md', 'docs/v2/design/AC_LEDGER.md', 'docs/v2/SSOT_RULES.md']) paths.add(p);
    }
    const glob = `{${[...paths].sort().join(',')}}`;
    if (glob === this.watchedGlob && this.watcher) return;
    this.watcher?.dispose();
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, glob));
    const onEvent = (uri: vscode.Uri): void => {
      this.log.debug(`SSOT file changed: ${uri.fsPath}`);
      this.scheduleRefresh();
    };
    const subs = [watcher.onDidChange(onEvent), watcher.onDidCreate(onEvent), watcher.onDidDelete(onEvent)];
    this.watcher = vscode.Disposable.from(watcher, ...subs);
    this.watchedGlob = glob;
    this.log.debug(`watching ${glob}`);
  }
}
