import * as fs from 'node:fs';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import * as vscode from 'vscode';
import { RedactingStream } from '../../../core/gateway/redact';
import type { LogStream, RunSnapshot, WebviewMessage } from '../../../shared/protocol';
import { FactoryPanel, createPanel, workspaceConfig, type PanelDeps } from '../panel-base';
import { cycleChoices, type LiveRuns, type LiveRunsTarget } from './live-runs';
import { loadLatestRun, regularFile, resolveEvidenceFile } from './run-snapshot';

export const RUN_PANEL_VIEW_TYPE = 'factory.runPanel';
/** Chunk size for streaming a log file to the webview (well under the protocol's 1 MB cap). */
const CHUNK_BYTES = 256 * 1024;

/**
 * The Run panel host: posts the newest run's snapshot and streams its Gate and Worker logs (read
 * in chunks, secrets redacted by a streaming redactor, the webview renders them virtualised).
 * `show()` reuses the open panel. The cycle can push live data with {@link RunPanel.postSnapshot}
 * and {@link RunPanel.liveLog}.
 */
export class RunPanel extends FactoryPanel {
  private static current: RunPanel | undefined;
  /** The factory run's cycles (one window, one run): the panel follows one of them. */
  static live: LiveRuns | undefined;
  private snapshot: RunSnapshot | undefined;
  private runDir: string | undefined;
  private streaming: AbortController | undefined;
  /** The run to show (a live cycle it follows, or an evidence run); undefined = the newest. */
  private runId: string | undefined;

  /** Opens (or reveals) the panel; with `runId` it shows that evidence run instead of the newest. */
  static show(deps: PanelDeps, runId?: string): RunPanel {
    if (RunPanel.current && !RunPanel.current.isDisposed) {
      RunPanel.current.panel.reveal();
      if (runId !== undefined && runId !== RunPanel.current.runId) {
        RunPanel.current.runId = runId;
        void RunPanel.current.reload();
      }
      return RunPanel.current;
    }
    const p = RunPanel.attach(createPanel(RUN_PANEL_VIEW_TYPE, 'Factory Run', deps), deps);
    p.runId = runId;
    return p;
  }

  /** Takes over a panel (a new one, or one the serializer restored after a reload). */
  static attach(panel: vscode.WebviewPanel, deps: PanelDeps): RunPanel {
    RunPanel.current?.dispose();
    const p = new RunPanel(panel, deps, 'run', 'Factory Run');
    RunPanel.current = p;
    return p;
  }

  /** The open panel, if any (for the status bar and the cycle). */
  static get open(): RunPanel | undefined {
    return RunPanel.current && !RunPanel.current.isDisposed ? RunPanel.current : undefined;
  }

  override dispose(): void {
    this.streaming?.abort();
    if (RunPanel.current === this) RunPanel.current = undefined;
    super.dispose();
  }

  protected async onMessage(m: WebviewMessage): Promise<void> {
    switch (m.type) {
      case 'ready':
      case 'refresh':
        await this.reload();
        return;
      case 'openEvidence':
        await this.openEvidence(m.runId, m.file);
        return;
      case 'openRunPanel':
        this.panel.reveal();
        return;
      case 'followRun':
        // Only a cycle of this window's run: anything else the webview names is ignored.
        if (!RunPanel.live?.follow(m.runId)) this.deps.log.warn(`Run panel: no cycle ${m.runId} in this window's run to follow`);
        return;
      case 'error':
        this.deps.log.warn(`Run panel: ${m.message}`);
        return;
    }
  }

  /** Reads the newest run again and re-streams its logs. */
  async reload(): Promise<void> {
    const ws = await workspaceConfig(this.deps);
    if (!ws) {
      await this.postSnapshot(undefined, 'Open a folder with a Factory workspace to see its runs.');
      return;
    }
    await this.postCycles();
    const live = RunPanel.live;
    const followed = live?.followed;
    if (live && followed && this.runId === followed && live.snapshotOf()?.status === 'RUNNING') {
      // A followed cycle is in flight: what it printed so far, then its live output.
      this.streaming?.abort();
      live.replayFollowed();
      return;
    }
    const latest = loadLatestRun(ws.root, ws.config, this.runId);
    const watched = latest.snapshot.runId && live?.has(latest.snapshot.runId) ? live.snapshotOf(latest.snapshot.runId) : undefined;
    // A cycle this window ran: its roles as the plan chose them (why, reserve, override), not only what history keeps.
    if (watched?.routing) latest.snapshot.routing = watched.routing;
    if (watched && latest.snapshot.runId && !latest.logs.gate && !latest.logs.worker) {
      // The cycle left no log files (a FAIL): show what it streamed.
      this.runDir = latest.runDir;
      this.streaming?.abort();
      await this.postSnapshot(latest.snapshot);
      await this.replayLogs(latest.snapshot.runId);
      return;
    }
    this.runDir = latest.runDir;
    await this.postSnapshot(latest.snapshot);
    this.streaming?.abort();
    const ctl = (this.streaming = new AbortController());
    await this.streamFile('gate', latest.logs.gate, ctl.signal);
    await this.streamFile('worker', latest.logs.worker, ctl.signal);
  }

  async postSnapshot(run: RunSnapshot | undefined, note?: string): Promise<void> {
    const snap: RunSnapshot = run ?? {
      runId: null, ticketId: null, taskName: null, status: 'NONE', timestamp: null, durationSeconds: null,
      timeline: [], manifest: [], kpi: [], gates: [], scopeViolations: [], audit: null, cost: { spentUsd: null, budgetUsd: 1 }, note: note ?? null,
    };
    this.snapshot = snap;
    await this.channel.post({ type: 'run.snapshot', run: snap });
  }

  /** The run's cycles for the selector, and the one followed (null when this panel shows an evidence run). */
  async postCycles(): Promise<void> {
    const live = RunPanel.live;
    const followed = live?.followed && live.followed === this.runId ? live.followed : null;
    await this.channel.post({ type: 'run.cycles', cycles: live ? cycleChoices(live) : [], followed });
  }

  /** The panel shows the live cycle `runId` from now on (its snapshot and output follow). */
  followLive(runId: string): void {
    this.runId = runId;
    this.streaming?.abort();
  }

  /** Whether live posts for `runId` are this panel's (it follows that cycle). */
  follows(runId: string | undefined): boolean {
    return runId !== undefined && this.runId === runId;
  }

  private async replayLogs(runId: string): Promise<void> {
    for (const log of RunPanel.live?.logsOf(runId) ?? []) {
      await this.resetLog(log.stream, log.title);
      for (const text of log.chunks) await this.channel.post({ type: 'log.append', stream: log.stream, text });
    }
  }

  async resetLog(stream: LogStream, title: string): Promise<void> {
    await this.channel.post({ type: 'log.reset', stream, title: title.slice(0, 500) });
  }

  async appendLog(stream: LogStream, text: string): Promise<void> {
    await this.channel.post({ type: 'log.append', stream, text });
  }

  private async streamFile(stream: LogStream, file: string | undefined, signal: AbortSignal): Promise<void> {
    const name = stream === 'gate' ? 'Gate log' : 'Worker log';
    if (!file || !regularFile(file)) {
      await this.resetLog(stream, `${name}: not recorded for this run`);
      return;
    }
    await this.resetLog(stream, `${name}: ${path.basename(path.dirname(file))}/${path.basename(file)}`);
    const input = fs.createReadStream(file, { highWaterMark: CHUNK_BYTES, signal });
    const redactor = input.pipe(new RedactingStream(this.deps.secrets()));
    // pipe() does not forward errors: an abort (panel closed, newer reload) or a read error must
    // end the loop below, never surface as an unhandled 'error' event in the extension host.
    input.on('error', (err) => redactor.destroy(err));
    const decoder = new StringDecoder('utf8');
    try {
      for await (const chunk of redactor as AsyncIterable<Buffer>) {
        if (signal.aborted || this.isDisposed) break;
        const text = decoder.write(chunk);
        // Waiting for each post is the back-pressure: the webview takes chunks as fast as it renders.
        if (text && !(await this.channel.post({ type: 'log.append', stream, text }))) break;
      }
      const rest = decoder.end();
      if (rest && !signal.aborted) await this.channel.post({ type: 'log.append', stream, text: rest });
    } catch (err) {
      if (!signal.aborted) this.deps.log.warn(`Run panel: reading ${file} failed: ${String(err)}`);
    } finally {
      input.destroy();
    }
  }

  /** Opens a file of the shown run, only if the snapshot listed it and it is a regular file inside the run folder. */
  private async openEvidence(runId: string, file: string): Promise<void> {
    const snap = this.snapshot;
    const target = snap && snap.runId === runId && this.runDir ? resolveEvidenceFile(this.runDir, snap.manifest.map((f) => f.path), file) : undefined;
    if (!target) {
      this.deps.log.warn(`Run panel: refused to open ${runId}/${file} (not a listed regular file inside the shown run)`);
      return;
    }
    await vscode.window.showTextDocument(vscode.Uri.file(target), { preview: true, viewColumn: vscode.ViewColumn.Beside });
  }
}

/**
 * The Run panel end of the window's LiveRuns: the followed cycle's snapshot and output go to the
 * open panel while it follows that cycle (an evidence run the user opened meanwhile is left alone);
 * a newly followed cycle opens the panel on it; `changed` posts the selector again.
 */
export function runPanelLiveTarget(show: () => RunPanel, changed: () => void): LiveRunsTarget {
  const followed = (): RunPanel | undefined => {
    const p = RunPanel.open;
    return p && p.follows(RunPanel.live?.followed) ? p : undefined;
  };
  return {
    followed: (runId) => show().followLive(runId),
    snapshot: (run) => void followed()?.postSnapshot(run),
    resetLog: (stream, title) => void followed()?.resetLog(stream, title),
    appendLog: (stream, text) => void followed()?.appendLog(stream, text),
    changed,
  };
}
