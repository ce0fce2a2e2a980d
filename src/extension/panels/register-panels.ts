import * as vscode from 'vscode';
import { KEY_ENV } from '../../core/gateway/routes';
import { runIdSchema, webviewStateSchema } from '../../shared/protocol';
import { API_KEY_PROVIDERS, setApiKeyFlow, storedApiKeys } from '../secrets/api-key-flow';
import type { ExtensionDeps } from '../deps';
import { FactoryStatusBar } from '../status-bar/status-bar';
import { CostPanel, COST_PANEL_VIEW_TYPE } from './cost/cost-panel';
import type { PanelDeps } from './panel-base';
import { cyclePaths, cycleRecords } from '../../core/cycle/orchestrator';
import { liveStatus } from '../status-bar/live-status';
import { LiveRuns } from './run/live-runs';
import { createLogSink } from './run/log-sink';
import { loadLatestRun } from './run/run-snapshot';
import { RunPanel, RUN_PANEL_VIEW_TYPE, runPanelLiveTarget } from './run/run-panel';


/**
 * The secrets every panel redacts (SECURITY 25): the keys in SecretStorage (kept in memory,
 * refreshed when SecretStorage changes) and the key variables of the extension host's environment.
 */
class SecretCache implements vscode.Disposable {
  private values: string[] = [];
  private readonly sub: vscode.Disposable;

  constructor(private readonly storage: vscode.SecretStorage) {
    this.sub = storage.onDidChange(() => void this.load());
    void this.load();
  }

  async load(): Promise<void> {
    const stored = Object.values(await storedApiKeys(this.storage));
    const env = API_KEY_PROVIDERS.flatMap((p) => KEY_ENV[p].map((name) => process.env[name]));
    this.values = [...stored, ...env].filter((s): s is string => typeof s === 'string' && s.length > 0);
  }

  get = (): string[] => this.values;

  dispose(): void {
    this.sub.dispose();
  }
}

/** What registerPanels returns (for the cycle and the extension-host tests). */
export interface PanelsApi {
  statusBar: FactoryStatusBar;
  showRunPanel(): RunPanel;
  showCostDashboard(): CostPanel;
  /**
   * The window's factory run (issue 18: up to N cycles in flight): `begin(budgetUsd)` before a run,
   * then every `CycleEvent` of every cycle to `live.handle` — the Run panel follows one cycle (the
   * others buffer), the status bar and the Runs view list them — and `live.finish()` at the end.
   */
  live: LiveRuns;
  beginRun(budgetUsd: number): void;
  /** The run's cycles changed (throttled): the Runs view re-reads its live rows. */
  onDidChangeLive: vscode.Event<void>;
}

/** Live updates reach the views at most this often (spend events come after every model call). */
const LIVE_THROTTLE_MS = 200;

/**
 * The Run panel and Cost dashboard commands, their serializers (panels come back after a reload
 * with their saved state), and the status bar item.
 */
export function registerPanels(context: vscode.ExtensionContext, deps: ExtensionDeps): PanelsApi {
  const secrets = new SecretCache(context.secrets);
  context.subscriptions.push(secrets);
  const panelDeps: PanelDeps = { ...deps, extensionUri: context.extensionUri, secrets: secrets.get };
  const statusBar = new FactoryStatusBar();
  context.subscriptions.push(statusBar);

  const showRunPanel = (): RunPanel => RunPanel.show(panelDeps);
  const showCostDashboard = (): CostPanel => CostPanel.show(panelDeps);
  registerPanelCommands(context, deps, panelDeps, showCostDashboard);

  // Idle status: the newest run, whenever the SSOT store refreshes (it also watches the config).
  const showLast = (): void => showLastRun(deps, statusBar);
  context.subscriptions.push(deps.store.onDidChange(showLast));
  showLast();
  const changed = new vscode.EventEmitter<void>();
  context.subscriptions.push(changed);
  let budgetUsd = 1;
  const live = new LiveRuns(() => budgetUsd, (post) => createLogSink(secrets.get(), post));
  RunPanel.live = live;
  let pending: ReturnType<typeof setTimeout> | undefined;
  const update = (): void => {
    pending = undefined;
    void RunPanel.open?.postCycles();
    showLiveStatus(live, statusBar, budgetUsd);
    changed.fire();
  };
  live.attach(runPanelLiveTarget(showRunPanel, () => (pending ??= setTimeout(update, LIVE_THROTTLE_MS))));
  context.subscriptions.push({ dispose: () => (clearTimeout(pending), live.attach(undefined), (RunPanel.live = undefined)) });
  const beginRun = (budget: number): void => {
    budgetUsd = budget;
    live.begin();
  };
  return { statusBar, showRunPanel, showCostDashboard, live, beginRun, onDidChangeLive: changed.event };
}

/** The status bar from the run's cycles: `N running · $X` with 2+ in flight, one cycle's phase, or the last ended one. */
function showLiveStatus(live: LiveRuns, statusBar: FactoryStatusBar, budgetUsd: number): void {
  const s = liveStatus(live.cycles, live.spentUsd, live.waiting.length, budgetUsd);
  statusBar.updateRun(s.kind === 'run' ? { running: s.running, spentUsd: s.spentUsd, waiting: s.waiting } : undefined);
  if (s.kind === 'cycle') statusBar.update(s.view);
}

/** The panels' commands (open, Set API Key) and serializers (panels come back after a reload). */
function registerPanelCommands(context: vscode.ExtensionContext, deps: ExtensionDeps, panelDeps: PanelDeps, showCostDashboard: () => CostPanel): void {
  context.subscriptions.push(
    // An optional run id (from the Runs view or a link): validated like any other outside input.
    vscode.commands.registerCommand('factory.runPanel.open', (runId?: unknown) => {
      const id = runIdSchema.safeParse(runId);
      // A cycle of this window's run in flight: follow it live (its output so far, then as it comes).
      if (id.success && RunPanel.live?.inFlight.some((c) => c.runId === id.data) && RunPanel.live.follow(id.data)) return RunPanel.open;
      return RunPanel.show(panelDeps, id.success ? id.data : undefined);
    }),
    vscode.commands.registerCommand('factory.costDashboard.open', showCostDashboard),
    // SECURITY 24: the key goes to SecretStorage only (never settings, files, logs or a webview).
    vscode.commands.registerCommand('factory.apiKey.set', () =>
      setApiKeyFlow(
        {
          pickProvider: (providers) => vscode.window.showQuickPick([...providers], { title: 'Factory: Set API Key', placeHolder: 'Which provider is the key for?' }) as Thenable<(typeof providers)[number] | undefined>,
          askKey: (provider, validate) =>
            vscode.window.showInputBox({ title: `Factory: ${provider} API key`, prompt: 'Stored in VS Code SecretStorage; empty removes the stored key.', password: true, ignoreFocusOut: true, validateInput: validate }),
          info: (m) => void vscode.window.showInformationMessage(m),
        },
        context.secrets,
        deps.log,
      ),
    ),
    vscode.window.registerWebviewPanelSerializer(RUN_PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: unknown) => {
        // The saved state is the webview's own (validated there too); only a well-formed one is logged as restored.
        deps.log.info(`Run panel restored (${webviewStateSchema.safeParse(state).success ? 'with' : 'without'} its state)`);
        RunPanel.attach(panel, panelDeps);
      },
    }),
    vscode.window.registerWebviewPanelSerializer(COST_PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel: vscode.WebviewPanel) => {
        CostPanel.attach(panel, panelDeps);
      },
    }),
    { dispose: () => RunPanel.open?.dispose() },
  );
}

/** The idle status bar: the newest run, unless a cycle is showing its own phase. */
function showLastRun(deps: ExtensionDeps, statusBar: FactoryStatusBar): void {
  const s = deps.store.state;
  if (s.kind !== 'ready' || statusBar.current.phase !== 'IDLE') return;
  try {
    const { snapshot } = loadLatestRun(s.root.fsPath, s.config);
    // The newest of: the last cycle in history.jsonl (a FAIL leaves no evidence) and the newest evidence run.
    const last = cycleRecords(cyclePaths(s.root.fsPath, s.config).history).filter((r) => !r.unblocked).at(-1);
    if (last && (!snapshot.timestamp || Date.parse(last.endedAt) >= Date.parse(snapshot.timestamp))) {
      statusBar.update({ phase: 'IDLE', ticketId: last.ticketId, lastStatus: last.status, costUsd: last.costUsd, budgetUsd: s.config.killSwitch.budgetUsd });
    } else {
      statusBar.update({ phase: 'IDLE', ticketId: snapshot.ticketId, lastStatus: snapshot.runId ? snapshot.status : null, costUsd: snapshot.cost.spentUsd, budgetUsd: snapshot.cost.budgetUsd });
    }
  } catch (err) {
    deps.log.warn(`status bar: ${String(err)}`);
  }
}
