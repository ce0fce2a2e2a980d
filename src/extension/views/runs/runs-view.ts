import * as vscode from 'vscode';
import { evidenceIndexFile } from '../../../core/evidence/run-index';
import { errorMessage } from '../../../core/util/errors';
import type { Logger } from '../../../core/util/log';
import { runIdSchema } from '../../../shared/protocol';
import type { ExtensionDeps } from '../../deps';
import { factoryPaths, type FactoryPaths } from '../../ssot/factory-paths';
import { RecordsWatcher } from '../../ssot/records-watcher';
import type { SsotStore } from '../../ssot/ssot-store';
import { debounce } from '../../util/debounce';
import { DisposableStore } from '../../util/disposable-store';
import { rowTreeItem } from '../tree-item';
import { HISTORY_FILE, loadRunsData, readRunFiles, type RunFiles } from './runs-data';
import { buildRunRows, evidenceFileRows, runTooltip, type RunRow, type RunsRow as RecordRow } from './runs-rows';
import { listCycleStates } from '../../../core/cycle/cycle-state';
import type { LiveCycle, WaitingTicket } from '../../panels/run/live-runs';
import { buildLiveRows, type LiveRow } from './live-rows';

/** A row of the view: a cycle in flight or a waiting ticket, a finished run, or one of its files. */
export type RunsRow = RecordRow | LiveRow;

/** This window's factory run as the view reads it (panels/run/live-runs.ts). */
export interface LiveSource {
  readonly running: boolean;
  readonly inFlight: LiveCycle[];
  readonly waiting: WaitingTicket[];
}

/** The view id in package.json. */
export const RUNS_VIEW_ID = 'factory.runs';
/** A cycle writes many evidence files in a burst: one reload per burst. */
export const RUNS_REFRESH_DEBOUNCE_MS = 300;
const OPEN_IN_PANEL = 'factory.runs.openInPanel';
const REVEAL_EVIDENCE = 'factory.runs.revealEvidence';
const FOLLOW = 'factory.runs.follow';
/** Another Controller's cycles: their state files are re-read this long after they change. */
const LIVE_REFRESH_DEBOUNCE_MS = 150;

/**
 * The Runs view: every cycle newest first (evidence runs and history.jsonl merged by run id), with
 * status, cost and duration; a run's children are its evidence files. Reloads when the store
 * refreshes (the config may move the folders) and when files under the evidence folder or
 * history.jsonl change. Row building is in runs-rows.ts; this class only wires it to VS Code.
 */
export class RunsView extends DisposableStore implements vscode.TreeDataProvider<RunsRow> {
  private readonly changed = this.add(new vscode.EventEmitter<RunsRow | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<RunsRow>;
  private rows: RunRow[] = [];
  private paths: FactoryPaths | undefined;
  private generation = 0;
  private readonly files = new Map<string, RunFiles>();
  private readonly reported = new Set<string>();
  private readonly scheduled = this.add(debounce(() => void this.refresh(), RUNS_REFRESH_DEBOUNCE_MS));
  /** The evidence folder and history.jsonl. */
  private readonly records = this.add(new RecordsWatcher((p) => [`${p.evidence}/**`, `${p.autopilot}/${HISTORY_FILE}`], () => this.scheduleRefresh()));
  /** Cycles in flight and waiting tickets, above the finished runs. */
  private liveRows: LiveRow[] = [];
  private live: LiveSource | undefined;
  private readonly liveScheduled = this.add(debounce(() => this.refreshLive(), LIVE_REFRESH_DEBOUNCE_MS));
  /** The slot state files (`cycle_state*.json`): cycles another Controller runs on this repository. */
  private readonly states = this.add(new RecordsWatcher((p) => [`${p.autopilot}/cycle_state*.json`], () => this.liveScheduled.trigger()));

  constructor(
    private readonly store: SsotStore,
    private readonly log: Logger,
  ) {
    super();
    this.view = this.add(vscode.window.createTreeView(RUNS_VIEW_ID, { treeDataProvider: this, showCollapseAll: true }));
    this.add(store.onDidChange(() => void this.refresh()));
    void this.refresh();
  }

  /** The rows currently shown (the extension-host tests read them through the extension's API). */
  get currentRows(): readonly RunRow[] {
    return this.rows;
  }

  /** The cycles in flight and waiting tickets shown above the runs. */
  get currentLiveRows(): readonly LiveRow[] {
    return this.liveRows;
  }

  /** This window's run: its cycles are listed live (`changed`: they moved on). */
  setLive(live: LiveSource, changed: vscode.Event<void>): void {
    this.live = live;
    this.add(changed(() => this.refreshLive()));
  }

  /** The live rows again: this window's cycles, the slot state files of another Controller's, the waiting tickets. */
  refreshLive(): readonly LiveRow[] {
    if (this.isDisposed) return this.liveRows;
    const paths = this.paths ?? factoryPaths(this.store.state);
    const live = this.live?.running ? this.live : undefined;
    const states = paths ? listCycleStates(paths.root.fsPath, paths.autopilot) : [];
    this.liveRows = buildLiveRows(live?.inFlight ?? [], live?.waiting ?? [], states, Date.now());
    this.describe();
    this.changed.fire(undefined);
    return this.liveRows;
  }

  private describe(): void {
    const n = this.rows.length;
    const running = this.liveRows.filter((r) => r.state === 'running').length;
    const parts = [...(running ? [`${running} in flight`] : []), ...(n ? [`${n} run${n === 1 ? '' : 's'}`] : [])];
    this.view.description = parts.length ? parts.join(' · ') : undefined;
  }

  /** Reload soon (coalesced with other triggers). */
  scheduleRefresh(): void {
    this.scheduled.trigger();
  }

  /** Re-read the evidence index and history now; resolves with the rows it produced (or a newer call's). */
  async refresh(): Promise<readonly RunRow[]> {
    const generation = ++this.generation;
    const paths = factoryPaths(this.store.state);
    this.records.follow(paths);
    this.states.follow(paths);
    let rows: RunRow[] = [];
    if (paths) {
      const root = paths.root.fsPath;
      // The index cache is a write into the repository: only in a trusted folder (Restricted Mode only reads).
      const cacheFile = vscode.workspace.isTrusted ? evidenceIndexFile(root, { paths: { autopilot: paths.autopilot, evidence: paths.evidence } }) : undefined;
      const push = this.store.state.kind === 'ready' && this.store.state.config.git.push;
      const data = await loadRunsData(root, paths.evidence, paths.autopilot, { ...(cacheFile ? { cacheFile } : {}), push });
      if (generation !== this.generation || this.isDisposed) return this.rows;
      for (const p of data.problems) {
        if (this.reported.has(p)) continue;
        this.reported.add(p);
        this.log.warn(`Runs view: ${p}`);
      }
      rows = buildRunRows(data.evidence, data.history, { evidenceDir: paths.evidence, ...(data.notPushed ? { notPushed: new Set(data.notPushed) } : {}) });
    }
    this.paths = paths;
    this.rows = rows;
    this.files.clear();
    // A cycle that ended has its history line now: the live rows are read again with it.
    this.refreshLive();
    return rows;
  }

  /** The run folder of a run id (only for ids that are plain names). */
  runFolder(runId: string): vscode.Uri | undefined {
    if (!this.paths || !runIdSchema.safeParse(runId).success) return undefined;
    return vscode.Uri.joinPath(this.paths.root, ...this.paths.evidence.split('/'), runId);
  }

  private runFiles(row: RunRow): RunFiles | undefined {
    const dir = row.hasEvidence ? this.runFolder(row.runId) : undefined;
    if (!dir) return undefined;
    let files = this.files.get(row.runId);
    if (!files) {
      files = readRunFiles(dir.fsPath);
      this.files.set(row.runId, files);
    }
    return files;
  }

  getChildren(element?: RunsRow): RunsRow[] {
    if (!element) return [...this.liveRows, ...this.rows];
    if (element.kind !== 'run') return [];
    const files = this.runFiles(element);
    return files ? evidenceFileRows(element.runId, files.files) : [];
  }

  getTreeItem(row: RunsRow): vscode.TreeItem {
    if (row.kind === 'live') {
      const item = rowTreeItem(row);
      // This window's cycle: the Run panel follows it (its output so far, then live).
      if (row.contextValue === 'live;running' && row.runId) item.command = { command: FOLLOW, title: 'Follow in Run Panel', arguments: [row.runId] };
      return item;
    }
    if (row.kind === 'run') {
      const item = rowTreeItem(row, row.hasEvidence ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
      item.command = { command: 'factory.runPanel.open', title: 'Open in Run Panel', arguments: [row.runId] };
      return item;
    }
    const item = rowTreeItem(row);
    const dir = this.runFolder(row.runId);
    if (dir && row.present) {
      // No resourceUri: evidence lies under logs/, so plan-scope and git decorations would paint every row.
      const uri = vscode.Uri.joinPath(dir, ...row.path.split('/'));
      item.command = { command: 'vscode.open', title: 'Open Evidence File', arguments: [uri, { preview: true }] };
    }
    return item;
  }

  /** A run with evidence but no ACs in history names the manifest's ACs once it is hovered. */
  resolveTreeItem(item: vscode.TreeItem, row: RunsRow): vscode.TreeItem {
    if (row.kind === 'run' && row.hasEvidence && row.acIds.length === 0) {
      const acIds = this.runFiles(row)?.acIds ?? [];
      if (acIds.length) item.tooltip = runTooltip(row, this.paths ? { evidenceDir: this.paths.evidence } : {}, acIds);
    }
    return item;
  }
}

/** A run id from a command argument: a Runs row (context menu) or the id itself (links, tests). */
function runIdOf(arg: unknown): string | undefined {
  const raw = arg && typeof arg === 'object' && 'runId' in arg ? arg.runId : arg;
  const id = runIdSchema.safeParse(raw);
  return id.success ? id.data : undefined;
}

/** The Runs view and its context-menu commands. */
export function registerRunsView(context: vscode.ExtensionContext, deps: ExtensionDeps): RunsView {
  const runs = new RunsView(deps.store, deps.log);
  context.subscriptions.push(
    runs,
    vscode.commands.registerCommand(OPEN_IN_PANEL, async (arg?: unknown) => {
      const runId = runIdOf(arg);
      if (!runId) return void vscode.window.showWarningMessage('Open in Run Panel: choose a run in the Runs view.');
      await vscode.commands.executeCommand('factory.runPanel.open', runId);
    }),
    vscode.commands.registerCommand(FOLLOW, async (arg?: unknown) => {
      const runId = runIdOf(arg);
      if (!runId) return void vscode.window.showWarningMessage('Follow in Run Panel: choose a cycle in flight in the Runs view.');
      await vscode.commands.executeCommand('factory.runPanel.open', runId);
    }),
    vscode.commands.registerCommand(REVEAL_EVIDENCE, async (arg?: unknown) => {
      const runId = runIdOf(arg);
      const dir = runId ? runs.runFolder(runId) : undefined;
      if (!dir) return void vscode.window.showWarningMessage('Reveal Evidence Folder: choose a run in the Runs view.');
      try {
        await vscode.workspace.fs.stat(dir);
      } catch {
        return void vscode.window.showWarningMessage(`Run ${runId} has no evidence folder.`);
      }
      try {
        await vscode.commands.executeCommand('revealInExplorer', dir);
      } catch (err) {
        // Outside the workspace's explorer (or no explorer, e.g. a hidden folder): the OS file manager.
        deps.log.warn(`revealInExplorer failed for ${dir.fsPath}: ${errorMessage(err)}`);
        await vscode.commands.executeCommand('revealFileInOS', dir);
      }
    }),
  );
  return runs;
}
