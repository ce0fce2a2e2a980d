import * as fs from 'node:fs';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import * as vscode from 'vscode';
import { RedactingStream } from '../../../core/gateway/redact';
import type { LogStream, RunSnapshot, WebviewMessage } from '../../../shared/protocol';
import { FactoryPanel, createPanel, workspaceConfig, type PanelDeps } from '../panel-base';
import { createLogSink, type LogSink } from './log-sink';
import { loadLatestRun, regularFile, resolveEvidenceFile } from './run-snapshot';

export const RUN_PANEL_VIEW_TYPE = 'factory.runPanel';
/** Chunk size for streaming a log file to the webview (well under the protocol's 1 MB cap). */
const CHUNK_BYTES = 256 * 1024;
/** How much of a live cycle's output per stream the panel keeps to show again after it is re-shown. */
const LIVE_KEEP_BYTES = 8 * 1024 * 1024;

/**
 * The Run panel host: posts the newest run's snapshot and streams its Gate and Worker logs (read
 * in chunks, secrets redacted by a streaming redactor, the webview renders them virtualised).
 * `show()` reuses the open panel. The cycle can push live data with {@link RunPanel.postSnapshot}
 * and {@link RunPanel.liveLog}.
 */
export class RunPanel extends FactoryPanel {
  private static current: RunPanel | undefined;
  /** While a cycle runs: its live snapshot, shown instead of the newest evidence run. */
  static liveSnapshot: (() => RunSnapshot | undefined) | undefined;
  private snapshot: RunSnapshot | undefined;
  private runDir: string | undefined;
  private streaming: AbortController | undefined;
  /** The evidence run to show; undefined = the newest. */
  private runId: string | undefined;
  /**
   * The last live cycle's redacted output (capped), so the webview — recreated whenever the panel
   * is hidden and shown again — gets it back: a FAIL keeps no log file to stream.
   */
  private live: { runId: string; logs: Map<LogStream, { title: string; chunks: string[]; bytes: number }>; routing?: RunSnapshot['routing'] } | undefined;

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
    const live = RunPanel.liveSnapshot?.();
    if (live) {
      // A cycle is running: its feed posts the logs as they come (what came so far first).
      await this.postSnapshot(live);
      await this.replayLive(live.runId);
      return;
    }
    const latest = loadLatestRun(ws.root, ws.config, this.runId);
    // The cycle this panel watched: its roles as the plan chose them (why, reserve, override), not only what history keeps.
    if (this.live?.routing && latest.snapshot.runId === this.live.runId) latest.snapshot.routing = this.live.routing;
    if (this.live && latest.snapshot.runId === this.live.runId && !latest.logs.gate && !latest.logs.worker) {
      // The cycle this panel watched left no log files (a FAIL): show what it streamed.
      this.runDir = latest.runDir;
      await this.postSnapshot(latest.snapshot);
      await this.replayLive(this.live.runId);
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
    if (this.live && snap.runId === this.live.runId && snap.routing) this.live.routing = snap.routing;
    await this.channel.post({ type: 'run.snapshot', run: snap });
  }

  /** A cycle starts: `runId` becomes the panel's run (also after the cycle ends) and its output is kept. */
  beginLive(runId: string): void {
    this.runId = runId;
    this.live = { runId, logs: new Map() };
  }

  private async replayLive(runId: string | null): Promise<void> {
    if (!this.live || this.live.runId !== runId) return;
    for (const [stream, log] of this.live.logs) {
      await this.resetLog(stream, log.title);
      for (const text of log.chunks) await this.channel.post({ type: 'log.append', stream, text });
    }
  }

  async resetLog(stream: LogStream, title: string): Promise<void> {
    await this.channel.post({ type: 'log.reset', stream, title: title.slice(0, 500) });
  }

  /**
   * A sink for live output of the running cycle: resets the stream's view, then every chunk
   * written is redacted (keys split across chunks included) and appended. Call `end()` when the
   * process ends.
   */
  async liveLog(stream: LogStream, title: string): Promise<LogSink> {
    await this.resetLog(stream, title);
    const kept = { title, chunks: [] as string[], bytes: 0 };
    this.live?.logs.set(stream, kept);
    return createLogSink(this.deps.secrets(), (text) => {
      // Keep up to 8 MB per stream for a re-shown panel; the rest was shown live only.
      if (kept.bytes < LIVE_KEEP_BYTES) {
        kept.chunks.push(text);
        kept.bytes += text.length;
      }
      return this.channel.post({ type: 'log.append', stream, text });
    });
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
