import * as vscode from 'vscode';
import { KEY_ENV } from '../../core/gateway/routes';
import { runIdSchema, webviewStateSchema } from '../../shared/protocol';
import { API_KEY_PROVIDERS, setApiKeyFlow, storedApiKeys } from '../secrets/api-key-flow';
import type { ExtensionDeps } from '../deps';
import { FactoryStatusBar } from '../status-bar/status-bar';
import { CostPanel, COST_PANEL_VIEW_TYPE } from './cost/cost-panel';
import type { PanelDeps } from './panel-base';
import { cyclePaths, cycleRecords, type CycleEvent } from '../../core/cycle/orchestrator';
import type { LogStream } from '../../shared/protocol';
import { CycleFeed } from './run/cycle-feed';
import type { LogSink } from './run/log-sink';
import { loadLatestRun } from './run/run-snapshot';
import { RunPanel, RUN_PANEL_VIEW_TYPE } from './run/run-panel';


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
   * A listener for `runCycle`'s `onEvent`: opens the Run panel, shows the timeline, the live
   * Worker/Gate output (redacted) and the outcome, and drives the status bar.
   */
  cycleListener(budgetUsd: number): (e: CycleEvent) => void;
}

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
  const cycleListener = (budgetUsd: number) => liveCycleListener(statusBar, showRunPanel, budgetUsd);
  return { statusBar, showRunPanel, showCostDashboard, cycleListener };
}

/** The panels' commands (open, Set API Key) and serializers (panels come back after a reload). */
function registerPanelCommands(context: vscode.ExtensionContext, deps: ExtensionDeps, panelDeps: PanelDeps, showCostDashboard: () => CostPanel): void {
  context.subscriptions.push(
    // An optional run id (from the Runs view or a link): validated like any other outside input.
    vscode.commands.registerCommand('factory.runPanel.open', (runId?: unknown) => {
      const id = runIdSchema.safeParse(runId);
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
    const last = cycleRecords(cyclePaths(s.root.fsPath, s.config).history).at(-1);
    if (last && (!snapshot.timestamp || Date.parse(last.endedAt) >= Date.parse(snapshot.timestamp))) {
      statusBar.update({ phase: 'IDLE', ticketId: last.ticketId, lastStatus: last.status, costUsd: last.costUsd, budgetUsd: s.config.killSwitch.budgetUsd });
    } else {
      statusBar.update({ phase: 'IDLE', ticketId: snapshot.ticketId, lastStatus: snapshot.runId ? snapshot.status : null, costUsd: snapshot.cost.spentUsd, budgetUsd: snapshot.cost.budgetUsd });
    }
  } catch (err) {
    deps.log.warn(`status bar: ${String(err)}`);
  }
}

/** PanelsApi.cycleListener: one cycle's events into the Run panel (timeline, live logs) and the status bar. */
function liveCycleListener(statusBar: FactoryStatusBar, showRunPanel: () => RunPanel, budgetUsd: number): (e: CycleEvent) => void {
  const sinks = new Map<LogStream, Promise<LogSink | undefined>>();
  const feed = new CycleFeed(
    {
      snapshot: (run) => void RunPanel.open?.postSnapshot(run),
      resetLog: (stream, title) => sinks.set(stream, RunPanel.open?.liveLog(stream, title) ?? Promise.resolve(undefined)),
      appendLog: (stream, text) => {
        const sink = sinks.get(stream);
        if (sink) sinks.set(stream, sink.then(async (k) => (await k?.write(text), k)));
      },
      status: (v) => statusBar.update(v),
    },
    budgetUsd,
  );
  return (e) => {
    if (e.type === 'plan') {
      RunPanel.liveSnapshot = () => feed.current;
      showRunPanel().beginLive(e.plan.run_id);
    }
    feed.handle(e);
    if (e.type === 'end') {
      RunPanel.liveSnapshot = undefined;
      for (const s of sinks.values()) void s.then((k) => k?.end());
    }
  };
}
