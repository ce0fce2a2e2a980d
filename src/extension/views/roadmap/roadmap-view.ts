import * as vscode from 'vscode';
import type { SsotState, SsotStore } from '../../ssot/ssot-store';
import { DisposableStore } from '../../util/disposable-store';
import { openSourceCommand, rowTreeItem } from '../tree-item';
import { buildRoadmapRows, type PhaseRow, type RoadmapRow } from './roadmap-model';

/** The view id in package.json. */
export const ROADMAP_VIEW_ID = 'factory.roadmap';

/**
 * The Roadmap view: phase → ticket → AC with status icons and DONE/TOTAL. It owns its TreeView and
 * rebuilds its rows when the store reports a new index.
 */
export class RoadmapView extends DisposableStore implements vscode.TreeDataProvider<RoadmapRow> {
  private readonly changed = this.add(new vscode.EventEmitter<RoadmapRow | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private rows: PhaseRow[] = [];
  private root: vscode.Uri | undefined;
  readonly view: vscode.TreeView<RoadmapRow>;

  constructor(store: SsotStore) {
    super();
    this.view = this.add(vscode.window.createTreeView(ROADMAP_VIEW_ID, { treeDataProvider: this, showCollapseAll: true }));
    this.add(store.onDidChange((state) => this.update(state)));
    this.update(store.state);
  }

  private update(state: SsotState): void {
    if (state.kind === 'ready') {
      this.root = state.root;
      this.rows = buildRoadmapRows(state.index, state.config);
      const tickets = state.index.tickets.length;
      const done = state.index.tickets.filter((t) => t.status === 'DONE').length;
      this.view.description = `${done}/${tickets} tickets`;
      // SECURITY 23: say why nothing runs here (the commands refuse with the same reason).
      this.view.message = vscode.workspace.isTrusted ? undefined : 'Restricted Mode: the documents are only read. Run, Dry Run, Gate and DocOps stay off until you trust this folder.';
    } else {
      // Empty rows let `viewsWelcome` (keyed on factory.ssotState) explain why.
      this.rows = [];
      this.view.description = undefined;
      this.view.message = state.kind === 'error' ? `Could not read the SSOT documents: ${state.message}` : undefined;
    }
    this.changed.fire(undefined);
  }

  /** The message above the tree (why nothing runs, or why it is empty), for the tests. */
  get message(): string | undefined {
    return this.view.message;
  }

  /** The rows currently shown (the extension-host tests read them through the extension's API). */
  get currentRows(): readonly PhaseRow[] {
    return this.rows;
  }

  getChildren(element?: RoadmapRow): RoadmapRow[] {
    if (!element) return this.rows;
    return element.kind === 'ac' ? [] : element.children;
  }

  getTreeItem(row: RoadmapRow): vscode.TreeItem {
    const collapsible =
      row.kind === 'ac' || row.children.length === 0
        ? vscode.TreeItemCollapsibleState.None
        : row.kind === 'phase'
          ? vscode.TreeItemCollapsibleState.Expanded
          : vscode.TreeItemCollapsibleState.Collapsed;
    const item = rowTreeItem(row, collapsible);
    if (this.root) item.command = openSourceCommand(this.root, row.source);
    return item;
  }
}
