import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CONFIG_FILE } from '../../core/config/config-file';
import type { Plan } from '../../core/contracts/plan';
import { scopeFallbackLine } from '../../core/plan/scope/explain';
import { auditTicket, type AuditTicketOutcome } from '../../core/cycle/audit-ticket';
import type { FactoryConfig } from '../../core/config/schema';
import type { CycleDeps, CycleEvent, CycleOutcome, ReviewDecision } from '../../core/cycle/cycle-types';
import type { FactoryRunResult } from '../../core/cycle/parallel/factory-types';
import { stopWorker, type StopAnswer } from './stop-worker';
import { gateWorkspace, type GateWorkspaceResult } from '../../core/gate/gate-workspace';
import { docOpsWorkspace } from '../../core/guards/docops-workspace';
import type { DocOpsReport } from '../../core/guards/guard-model';
import { keysFromEnv, type ProviderKeys } from '../../core/gateway/gateway';
import { FactoryError, errorMessage } from '../../core/util/errors';
import type { ExtensionDeps } from '../deps';
import type { PanelsApi } from '../panels/register-panels';
import { storedApiKeys } from '../secrets/api-key-flow';
import { ChangesetReviewer, type ReviewSubject } from './changeset-review';
import { mayRunReplay, runSettings, type RunSettings } from './run-settings';
import { startRefusalOffer } from './start-refusal';
import { factoryRunOptions, progressMessage, runLabel, runSummary, withEditorBackend, type RunStart } from './run-operation';
import { runFactory } from '../../core/cycle/parallel/run-factory';
import { requestStop } from '../../core/cycle/stop-requests';
import { waitForCycleEnd, waitForRequestTaken } from './stop-targets';
import { BlockedHandoff, isBlocked, retryOptions, type RetryRequest } from './blocked-handoff';

/** Context key: this window runs a Factory operation (a cycle, a Gate, an audit). */
export const BUSY_KEY = 'factory.busy';

/** "Factory: Run"'s answer: the last cycle's outcome and the whole run's result. */
export type RunOutcome = CycleOutcome & { run: FactoryRunResult };

/** Why a command did not start: shown to the user, returned to callers (tests, other extensions). */
export type Refusal = { refused: 'untrusted' | 'no-workspace' | 'busy'; message: string };

export interface ReadyWorkspace {
  root: string;
  config: FactoryConfig;
}

interface Operation {
  label: string;
  abort: AbortController;
}

/** The run settings for `root`; security-relevant ones from the user's settings only. */
export function readRunSettings(root: string): RunSettings {
  const c = vscode.workspace.getConfiguration('factory', vscode.Uri.file(root));
  return runSettings(root, (key) => c.inspect(key));
}

/** Provider keys for the gateway: SecretStorage's ("Factory: Set API Key") over the environment's. */
export async function gatewayKeys(secrets: vscode.SecretStorage): Promise<ProviderKeys> {
  return { ...keysFromEnv(), ...(await storedApiKeys(secrets)) };
}

/**
 * The one Factory operation of this window at a time (a cycle, a Gate, DocOps, an audit): checks
 * Workspace Trust first (SECURITY 23: nothing runs in Restricted Mode), shows a cancellable
 * progress notification, owns the AbortController that "Factory: Stop Worker" and Cancel fire,
 * and re-reads the SSOT documents when it ends.
 */
export class FactoryRunner implements vscode.Disposable {
  private op: Operation | undefined;
  /** The last cycle this window ran (for "Review Changeset" after a FAIL, and the tests). */
  lastOutcome: (CycleOutcome & { root: string; baseCommit?: string }) | undefined;
  readonly reviewer: ChangesetReviewer;
  /** Reviews of this run's cycles, queued or shown, by run id: a stop of one answers its review. */
  private readonly queuedReviews = new Map<string, (d: ReviewDecision) => void>();
  /** The last operation ended because it was cancelled or stopped. */
  private lastAborted = false;
  /** Issue 20: a ticket left BLOCKED gets this notification; its retry runs through runCycle. */
  readonly blockedHandoff: BlockedHandoff;

  constructor(
    private readonly deps: ExtensionDeps,
    private readonly panels: PanelsApi,
    private readonly secrets: vscode.SecretStorage,
    private readonly extensionUri: vscode.Uri,
  ) {
    this.reviewer = new ChangesetReviewer(deps.log);
    this.blockedHandoff = new BlockedHandoff(deps, (t, r) => this.runCycle(t, r));
  }

  get busy(): string | undefined {
    return this.op?.label;
  }

  /**
   * The workspace a command may run in, or a refusal the user has been shown. Every caller runs
   * git, project code or containers in the folder, so Workspace Trust is always required;
   * `exclusive`: it is this window's one operation (refused while another runs).
   */
  async ready(what: string, exclusive = true): Promise<ReadyWorkspace | Refusal> {
    if (!vscode.workspace.isTrusted) {
      const message = `Factory: ${what} is not available in Restricted Mode. It runs this folder's code (the Worker, the Gate, the project's guard scripts); trust the folder first if you trust its contents.`;
      void vscode.window.showErrorMessage(message, 'Manage Workspace Trust').then((c) => c && vscode.commands.executeCommand('workbench.trust.manage'));
      return { refused: 'untrusted', message };
    }
    const s = this.deps.store.state;
    if (s.kind !== 'ready') {
      const message =
        s.kind === 'missing'
          ? `Factory: ${what} needs the SSOT documents: ${s.reason}. Run "Factory: Initialize Workspace".`
          : s.kind === 'error'
            ? `Factory: ${what}: the SSOT documents could not be read: ${s.message}`
            : `Factory: ${what} needs an open folder with SSOT documents.`;
      void vscode.window.showErrorMessage(message);
      return { refused: 'no-workspace', message };
    }
    if (exclusive && this.op) {
      const message = `Factory: ${this.op.label} is running in this window; stop it first ("Factory: Stop Worker").`;
      void vscode.window.showWarningMessage(message, 'Stop Worker').then((c) => c && this.stop());
      return { refused: 'busy', message };
    }
    return { root: s.root.fsPath, config: s.config };
  }

  /**
   * Run `work` as this window's operation under a cancellable notification. Cancel (or Stop
   * Worker) aborts its signal; the core then stops its containers and records the cycle ABORTED.
   */
  async withOperation<T>(label: string, work: (signal: AbortSignal, progress: vscode.Progress<{ message?: string }>) => Promise<T>): Promise<T> {
    const abort = new AbortController();
    this.op = { label, abort };
    await vscode.commands.executeCommand('setContext', BUSY_KEY, true);
    try {
      return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Factory: ${label}`, cancellable: true }, async (progress, token) => {
        const sub = token.onCancellationRequested(() => abort.abort(new FactoryError(`${label} cancelled`, 'interrupted')));
        try {
          return await work(abort.signal, progress);
        } finally {
          sub.dispose();
        }
      });
    } finally {
      this.lastAborted = abort.signal.aborted;
      this.op = undefined;
      await vscode.commands.executeCommand('setContext', BUSY_KEY, false);
      void this.deps.store.refresh();
    }
  }

  /**
   * "Factory: Run": one factory run (issue 18) — up to `factory.parallel` cycles in flight on the
   * queue's next tickets (one ticket: that one alone) — with the live Run panel, Runs view and
   * status bar. The run checks the baseline on HEAD first (spec §8-3; the gate cache makes a repeat
   * free); `acceptRedBaseline` is the "Run anyway" of a red baseline. Returns the last cycle's
   * outcome with the whole run's result.
   */
  async runCycle(ticket?: string, start: RunStart & RetryRequest = {}): Promise<RunOutcome | Refusal | { error: string }> {
    const ws = await this.ready('Run');
    if ('refused' in ws) return ws;
    const settings = readRunSettings(ws.root);
    // The replay agent may be the window's choice, the config's, or one the routing table picks.
    if (mayRunReplay(settings, ws.config) && !settings.replayDir) {
      const message = 'Factory: the replay agent needs its recordings: set "factory.replayDirectory" in your user settings to the folder holding <TICKET>.json.';
      void vscode.window.showErrorMessage(message, 'Open Settings').then((c) => c && vscode.commands.executeCommand('workbench.action.openSettings', 'factory.replayDirectory'));
      return { error: message };
    }
    const req = { ...(ticket ? { ticket } : {}), ...(start.acceptRedBaseline ? { acceptRedBaseline: true } : {}), ...(start.compare ? { compare: start.compare } : {}) };
    const opts = { ...factoryRunOptions(ws.root, settings, req, await gatewayKeys(this.secrets), vscode.Uri.joinPath(this.extensionUri, 'dist', 'worker.js').fsPath), ...retryOptions(start) };
    const label = runLabel(req, opts.parallel ?? 1);
    const baseCommits = new Map<string, string>();
    try {
      const result = await this.withOperation(label, async (signal, progress) => {
        this.panels.beginRun(ws.config.killSwitch.budgetUsd);
        const onEvent = (e: CycleEvent): void => {
          this.panels.live.handle(e);
          if (e.type === 'plan') this.warnScopeFallback(ws.root, e.plan);
          const msg = progressMessage(e, this.panels.live.inFlight.length);
          if (msg) progress.report({ message: msg });
        };
        const review = settings.requireApproval ? this.serialReview(ws.root, signal, baseCommits) : undefined;
        try {
          return await runFactory(await withEditorBackend(opts, settings), { logger: this.deps.log, signal, onEvent, ...(review ? { review } : {}), ...(start.picker ? { pickCandidate: start.picker(signal) } : {}) });
        } finally {
          this.panels.live.finish();
        }
      });
      const last = result.outcomes.at(-1);
      if (!last && result.stoppedBy === 'queue-empty') throw new FactoryError(result.message || 'no cycle ran', 'plan.queue-empty');
      if (!last) throw new FactoryError(result.message || 'no cycle ran', 'interrupted');
      this.lastOutcome = { ...last, root: ws.root, ...(baseCommits.has(last.runId) ? { baseCommit: baseCommits.get(last.runId) } : {}) };
      for (const o of result.outcomes.filter(isBlocked)) void this.blockedHandoff.offer(ws.root, o);
      if (result.outcomes.length === 1 && !isBlocked(last)) this.announce(last);
      else void vscode.window.showInformationMessage(runSummary(result), 'Open Run Panel').then((c) => c && this.panels.showRunPanel());
      return { ...last, run: result };
    } catch (err) {
      return { error: this.fail(label, err, () => void this.runCycle(ticket, { ...start, acceptRedBaseline: true })) };
    }
  }

  /**
   * The review hook of a run: one changeset at a time (the reviewer shows one diff; a second
   * cycle's review waits for the first decision instead of superseding it). A queued review of a
   * cycle stopped alone is answered at once (`queuedReviews`), never shown.
   */
  private serialReview(root: string, signal: AbortSignal, baseCommits: Map<string, string>): NonNullable<CycleDeps['review']> {
    let chain: Promise<unknown> = Promise.resolve();
    return (r) =>
      new Promise<ReviewDecision>((resolve, reject) => {
        baseCommits.set(r.runId, r.baseCommit);
        let settled = false;
        const done = (): boolean => {
          if (settled) return false;
          settled = true;
          this.queuedReviews.delete(r.runId);
          return true;
        };
        this.queuedReviews.set(r.runId, (d) => {
          if (done()) resolve(d);
        });
        chain = chain.then(async () => {
          if (settled) return;
          try {
            const d = await this.reviewer.hook(root, signal)(r);
            if (done()) resolve(d);
          } catch (err) {
            if (done()) reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      });
  }

  /** "Factory: Audit": the read-only Auditor on the ticket's last cycle commit. */
  async audit(ticket: string): Promise<AuditTicketOutcome | Refusal | { error: string }> {
    const ws = await this.ready('Audit');
    if ('refused' in ws) return ws;
    const settings = readRunSettings(ws.root);
    const keys = await gatewayKeys(this.secrets);
    try {
      const out = await this.withOperation(`Audit ${ticket}`, (signal) =>
        auditTicket({ root: ws.root, config: ws.config, ticket, keys, ...(settings.replayDir ? { replayFile: path.join(settings.replayDir, `${ticket}.audit.json`) } : {}) }, { logger: this.deps.log, signal }),
      );
      const n = out.report.violations.length;
      const msg = `Factory: Auditor ${out.report.verdict} on ${ticket} at ${out.commit.slice(0, 7)}${n ? ` — ${n} violation(s)` : ''} ($${out.costUsd.toFixed(4)})`;
      const show = out.report.verdict === 'PASS' ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
      void show(msg, 'Open Report').then((c) => c && vscode.window.showTextDocument(vscode.Uri.file(out.reportFile)));
      return out;
    } catch (err) {
      return { error: this.fail(`Audit ${ticket}`, err) };
    }
  }

  /** "Factory: Run Gate": guards, then the stages, over the working tree; recorded as an evidence run. */
  async gate(stage?: string): Promise<GateWorkspaceResult | Refusal | { error: string }> {
    const ws = await this.ready('Run Gate');
    if ('refused' in ws) return ws;
    const label = stage ? `Gate (${stage})` : 'Gate';
    const secrets = Object.values(await gatewayKeys(this.secrets)).filter((k): k is string => !!k);
    try {
      const out = await this.withOperation(label, (signal, progress) =>
        gateWorkspace({ root: ws.root, config: ws.config, ...(stage ? { stage } : {}), logger: this.deps.log, signal, secrets, progress: (p) => progress.report({ message: `${p.step}/${p.maxStep} ${p.message}` }) }),
      );
      const evidence = path.relative(ws.root, out.evidence.dir);
      const msg = `Factory: Gate ${out.report.status}${out.report.failedAt ? ` at ${out.report.failedAt}` : ''}${out.report.cache?.hit ? ' (cached PASS reused)' : ''} — evidence ${evidence}`;
      const show = out.report.status === 'PASS' ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
      void show(msg, 'Open gate.log', 'Open Run Panel').then((c) => {
        if (c === 'Open gate.log') void vscode.window.showTextDocument(vscode.Uri.file(path.join(out.evidence.dir, 'gate.log')));
        else if (c) this.panels.showRunPanel();
      });
      return out;
    } catch (err) {
      return { error: this.fail(label, err) };
    }
  }

  /** "Factory: Run DocOps": SSOT invariants, forbidden tokens, the project's docops scripts. */
  async docops(): Promise<DocOpsReport | Refusal | { error: string }> {
    const ws = await this.ready('Run DocOps');
    if ('refused' in ws) return ws;
    try {
      const report = await this.withOperation('DocOps', (signal, progress) =>
        docOpsWorkspace(ws.root, ws.config, { logger: this.deps.log, signal, progress: (p) => progress.report({ message: p.message }) }),
      );
      for (const g of report.guards) {
        this.deps.log.info(`DocOps ${g.name}: ${g.status}`);
        for (const f of g.findings) this.deps.log.info(`  ${f.severity} ${f.file ?? ''}${f.line ? `:${f.line}` : ''} ${f.message}`);
      }
      const findings = report.guards.reduce((n: number, g) => n + g.findings.length, 0);
      const msg = `Factory: DocOps ${report.status}${findings ? ` — ${findings} finding(s); ${report.status === 'PASS' ? 'warnings only' : 'the commit is forbidden until they are fixed'}` : ''}`;
      const show = report.status === 'PASS' ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
      void show(msg, 'Show Log').then((c) => c && this.deps.log.show());
      return report;
    } catch (err) {
      return { error: this.fail('DocOps', err) };
    }
  }

  /**
   * "Factory: Stop Worker": this window's operation — with several cycles in flight, All or the
   * one asked for (`arg`: a Runs row or run id) — otherwise a cycle another Controller runs here.
   */
  async stop(arg?: unknown): Promise<StopAnswer> {
    const s = this.deps.store.state;
    const op = this.op;
    try {
      return await stopWorker(
        {
          op: op ? { label: op.label, abortAll: () => (this.reviewer.reject('the cycle was stopped during the review'), op.abort.abort(new FactoryError(`${op.label} stopped`, 'interrupted'))) } : undefined,
          inFlight: this.panels.live.running ? this.panels.live.inFlight : [],
          workspace: s.kind === 'ready' ? { root: s.root.fsPath, config: s.config } : undefined,
          stopOne: (runId) => this.stopOne(runId),
        },
        arg,
      );
    } catch (err) {
      return { error: this.fail('Stop', err) };
    }
  }

  /**
   * One cycle of this window's run: a stop request, which the run's watcher turns into that
   * cycle's own abort (recorded ABORTED; the run goes on with the others, without its ticket).
   */
  private async stopOne(runId: string): Promise<void> {
    const s = this.deps.store.state;
    if (s.kind !== 'ready') return;
    await requestStop(s.root.fsPath, s.config.paths.autopilot, runId);
    this.deps.log.info(`Stop Worker: asked run ${runId} to stop`);
    // Its review is answered once the run took the request (the cycle's abort is set): it ends ABORTED, not rejected.
    await waitForRequestTaken(s.root.fsPath, s.config.paths.autopilot, runId);
    this.queuedReviews.get(runId)?.({ approved: false, reason: 'the cycle was stopped during the review' });
    if (this.reviewer.current?.runId === runId) this.reviewer.reject('the cycle was stopped during the review');
    // A cycle stopped alone sends no `end`: its state file going away says it has ended.
    void waitForCycleEnd(s.root.fsPath, s.config.paths.autopilot, runId).then((ended) => ended && this.panels.live.markEnded(runId, 'ABORTED', 'stopped alone (Stop Worker); recorded ABORTED, the other cycles went on'));
  }

  /** The changeset to review: the one waiting for approval, else this window's last kept FAIL. */
  reviewSubject(): ReviewSubject | undefined {
    if (this.reviewer.current) return this.reviewer.current;
    const o = this.lastOutcome;
    if (o?.stagingKept && o.baseCommit && o.changes.length) {
      return { root: o.root, runId: o.runId, ticketId: o.ticketId, baseCommit: o.baseCommit, workspace: path.join(o.stagingKept, 'workspace'), changes: o.changes };
    }
    return undefined;
  }

  private announce(o: CycleOutcome): void {
    const cost = `$${o.costUsd.toFixed(4)}`;
    const head = `Factory: ${o.ticketId} ${o.status}`;
    const open = 'Open Run Panel';
    if (o.status === 'PASS') {
      void vscode.window.showInformationMessage(`${head} — ${o.acIds.join(', ')} DONE, committed ${o.commit?.slice(0, 7) ?? '(no commit)'}, ${cost}.`, open).then((c) => c && this.panels.showRunPanel());
    } else {
      void vscode.window.showWarningMessage(`${head}: ${o.reasons[0] ?? 'see the Run panel'} (${cost})`, open).then((c) => c && this.panels.showRunPanel());
    }
  }

  /**
   * A plan on the config default scope (nothing could be derived for its ticket): a warning with
   * the setting to add, and "Open config" (a new, unsaved file when the project has none yet).
   */
  private warnScopeFallback(root: string, plan: Plan): void {
    const line = scopeFallbackLine(plan);
    if (!line) return;
    this.deps.log.warn(`${line} (${plan.scope_fallback?.why ?? ''})`);
    void vscode.window.showWarningMessage(`Factory: ${line}`, 'Open config').then((c) => {
      if (!c) return;
      const file = path.join(root, CONFIG_FILE);
      void vscode.window.showTextDocument(fs.existsSync(file) ? vscode.Uri.file(file) : vscode.Uri.file(file).with({ scheme: 'untitled' }));
    });
  }

  /**
   * Log and show a failure; an interruption is news, not an error. A refused cycle start offers
   * its way out (start-refusal.ts): "Show changes" (the SCM view) or "Run anyway" (`rerun`).
   */
  private fail(label: string, err: unknown, rerun?: () => void): string {
    const msg = errorMessage(err);
    if (this.lastAborted || (err instanceof FactoryError && err.code === 'interrupted')) {
      this.deps.log.info(`${label}: ${msg}`);
      void vscode.window.showInformationMessage(label.startsWith('Run') ? `Factory: ${label} stopped; the cycle is recorded ABORTED and nothing was applied.` : `Factory: ${label} stopped.`);
    } else if (err instanceof FactoryError && err.code === 'plan.queue-empty') {
      void vscode.window.showInformationMessage(`Factory: ${msg}`);
    } else {
      this.deps.log.error(`${label}: ${msg}`);
      const offer = startRefusalOffer(err);
      const actions = offer && ('command' in offer || rerun) ? [offer.action, 'Show Log'] : ['Show Log'];
      void vscode.window.showErrorMessage(`Factory: ${label} failed: ${msg}`, ...actions).then((c) => {
        if (c === 'Show Log') this.deps.log.show();
        else if (offer && c === offer.action) {
          if ('command' in offer) void vscode.commands.executeCommand(offer.command);
          else rerun?.();
        }
      });
    }
    return msg;
  }

  dispose(): void {
    this.op?.abort.abort(new FactoryError('the window closed', 'interrupted'));
    this.reviewer.dispose();
  }
}
