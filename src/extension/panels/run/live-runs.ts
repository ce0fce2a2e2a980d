/**
 * Every cycle of a factory run (issue 18: up to N in flight) as the editor shows it: one
 * `CycleFeed` per run id (timeline, roles, outcome), each cycle's Worker/Gate output redacted and
 * buffered (capped), the waiting tickets, and which cycle the Run panel follows. Events are routed
 * by their run id (`phase`/`spend`/`output`/`review`/`merge`/`requeued`: `runId`; `plan`:
 * `plan.run_id`; `end`: `outcome.runId`), so the cycles never mix and switching the followed one
 * shows its history. No `vscode` here: plain mocha drives it with events.
 */
import type { CycleEvent } from '../../../core/cycle/cycle-types';
import type { CyclePhase } from '../../../core/contracts/status';
import { CYCLE_CHOICES_MAX, type CycleChoice, type LogStream, type RunSnapshot } from '../../../shared/protocol';
import type { CycleStatusView } from '../../status-bar/status-text';
import { CycleFeed } from './cycle-feed';
import type { LogSink } from './log-sink';

/** Output kept per cycle and stream to show again when it is followed (the rest was shown live only). */
export const LIVE_KEEP_CHARS = 4 * 1024 * 1024;
/** Ended cycles kept (with their buffered output) besides those in flight. */
export const ENDED_KEEP = 16;

/** One cycle of the run as the Runs view, the status bar and the panel's selector show it. */
export interface LiveCycle {
  runId: string;
  ticketId: string | null;
  /** The phase running now (null before the first phase event, and after the end). */
  phase: CyclePhase | null;
  /** The merge queue's step once its PASS waits to be integrated. */
  merge: 'queued' | 'integrating' | 'gate' | 'committed' | null;
  /** Epoch ms of the first phase. */
  startedAt: number | null;
  /** Metered spend so far (every role); null before anything was metered. */
  spentUsd: number | null;
  /** `RUNNING` until the end event, then the cycle's status. */
  status: string;
  /** Requeued by the merge queue (why), shown until the cycle is gone. */
  requeued: string | null;
}

/** A ticket the scheduler holds back: its scope overlaps cycles in flight (`behind`: their run ids). */
export interface WaitingTicket {
  ticketId: string;
  behind: string[];
  reason: string;
}

/** Where the followed cycle goes (the Run panel) and who hears that the list changed. */
export interface LiveRunsTarget {
  /** `runId` becomes the followed cycle (before its snapshot and buffered output are sent). */
  followed(runId: string): void;
  snapshot(run: RunSnapshot): void;
  resetLog(stream: LogStream, title: string): void;
  appendLog(stream: LogStream, text: string): void;
  /** The cycles, their phases or spend, the waiting tickets or the followed cycle changed. */
  changed(): void;
}

interface Buffer {
  title: string;
  chunks: string[];
  chars: number;
}

interface Entry {
  cycle: LiveCycle;
  feed: CycleFeed;
  snapshot: RunSnapshot;
  logs: Map<LogStream, Buffer>;
  sinks: Map<LogStream, LogSink>;
}

export class LiveRuns {
  private readonly entries = new Map<string, Entry>();
  private readonly waitingTickets = new Map<string, WaitingTicket>();
  private followedId: string | undefined;
  /** True while a factory run is active (between begin and finish). */
  private active = false;
  private target: LiveRunsTarget | undefined;

  /**
   * @param makeSink a redacting sink for one stream of one cycle (log-sink.ts `createLogSink` with
   *   the secrets); what it posts is what is buffered and shown.
   */
  constructor(
    private readonly budgetUsd: () => number,
    private readonly makeSink: (post: (text: string) => Promise<boolean>) => LogSink,
  ) {}

  /** The panel (or a test's recorder); the followed cycle's snapshot and logs go there. */
  attach(target: LiveRunsTarget | undefined): void {
    this.target = target;
  }

  /** A factory run starts: the previous run's cycles are dropped from the in-flight list. */
  begin(): void {
    this.active = true;
    this.waitingTickets.clear();
    this.prune(0);
    this.target?.changed();
  }

  /**
   * The run ended: nothing waits any more; ended cycles stay (their output) for the panel. A cycle
   * that never sent its `end` was stopped with the run (the core records it ABORTED).
   */
  finish(): void {
    this.active = false;
    this.waitingTickets.clear();
    for (const e of this.entries.values()) {
      if (e.cycle.status === 'RUNNING') this.markEnded(e.cycle.runId, 'ABORTED', 'stopped with the run; recorded ABORTED');
      void this.endSinks(e);
    }
    this.target?.changed();
  }

  /**
   * A cycle ended without an `end` event — stopped alone (its state file is gone), or with the
   * run: its row leaves the cycles in flight, and its snapshot says so.
   */
  markEnded(runId: string, status: string, note: string): void {
    const e = this.entries.get(runId);
    if (!e || e.cycle.status !== 'RUNNING') return;
    e.cycle.status = status;
    e.cycle.phase = null;
    e.snapshot = {
      ...e.snapshot,
      status,
      note,
      timeline: e.snapshot.timeline.map((p) => (p.status === 'RUNNING' ? { ...p, status: 'FAIL' } : p.status === 'PENDING' ? { ...p, status: 'SKIPPED' } : p)),
    };
    if (this.followedId === runId) this.target?.snapshot(e.snapshot);
    void this.endSinks(e);
    this.target?.changed();
  }

  get running(): boolean {
    return this.active;
  }

  /** Every known cycle, in the order they started. */
  get cycles(): LiveCycle[] {
    return [...this.entries.values()].map((e) => e.cycle);
  }

  /** The cycles in flight (no end event yet). */
  get inFlight(): LiveCycle[] {
    return this.cycles.filter((c) => c.status === 'RUNNING');
  }

  get waiting(): WaitingTicket[] {
    return [...this.waitingTickets.values()];
  }

  /** The total spend of every cycle of this run so far. */
  get spentUsd(): number {
    return Math.round(this.cycles.reduce((a, c) => a + (c.spentUsd ?? 0), 0) * 1e6) / 1e6;
  }

  get followed(): string | undefined {
    return this.followedId;
  }

  /** The followed cycle's snapshot (a panel opened mid-run shows it), if a cycle is followed. */
  snapshotOf(runId: string | undefined = this.followedId): RunSnapshot | undefined {
    return runId ? this.entries.get(runId)?.snapshot : undefined;
  }

  /** The buffered output of a cycle, stream by stream (title, chunks). */
  logsOf(runId: string): Array<{ stream: LogStream; title: string; chunks: readonly string[] }> {
    const e = this.entries.get(runId);
    return e ? [...e.logs].map(([stream, b]) => ({ stream, title: b.title, chunks: b.chunks })) : [];
  }

  has(runId: string): boolean {
    return this.entries.has(runId);
  }

  /**
   * Follow `runId` in the panel: its snapshot and everything it printed so far are sent at once,
   * then its live output. False (nothing changes) for a run id this run does not know.
   */
  follow(runId: string): boolean {
    const e = this.entries.get(runId);
    if (!e) return false;
    this.followedId = runId;
    this.target?.followed(runId);
    this.replay(e);
    this.target?.changed();
    return true;
  }

  /** Sends the followed cycle's snapshot and buffered output again (a re-shown panel). */
  replayFollowed(): void {
    const e = this.followedId ? this.entries.get(this.followedId) : undefined;
    if (e) this.replay(e);
  }

  private replay(e: Entry): void {
    const t = this.target;
    if (!t) return;
    t.snapshot(e.snapshot);
    for (const [stream, b] of e.logs) {
      t.resetLog(stream, b.title);
      for (const text of b.chunks) t.appendLog(stream, text);
    }
  }

  handle(e: CycleEvent): void {
    switch (e.type) {
      case 'plan':
        this.waitingTickets.delete(e.plan.ticket_id);
        this.entry(e.plan.run_id).cycle.ticketId = e.plan.ticket_id;
        this.route(e.plan.run_id, e);
        // A new cycle is followed when nothing is, or the followed one has ended (a serial run follows each).
        if (!this.followedId || this.entries.get(this.followedId)?.cycle.status !== 'RUNNING') this.follow(e.plan.run_id);
        break;
      case 'phase':
      case 'spend':
      case 'output':
      case 'review':
        this.route(e.runId, e);
        break;
      case 'end':
        this.route(e.outcome.runId, e);
        this.ended(e.outcome.runId);
        break;
      case 'waiting':
        this.waitingTickets.set(e.ticketId, { ticketId: e.ticketId, behind: [...e.behind], reason: e.reason });
        break;
      case 'merge': {
        const c = this.entries.get(e.runId)?.cycle;
        if (c) c.merge = e.step;
        break;
      }
      case 'requeued': {
        const c = this.entries.get(e.runId)?.cycle;
        if (c) c.requeued = e.reason;
        break;
      }
      case 'recovered':
        // No run id: the note goes to the followed cycle's feed, if any.
        if (this.followedId) this.route(this.followedId, e);
        break;
      default:
        return;
    }
    this.target?.changed();
  }

  /** The cycle's entry, made on its first event. */
  private entry(runId: string): Entry {
    const e = this.entries.get(runId);
    if (e) return e;
    const cycle: LiveCycle = { runId, ticketId: null, phase: null, merge: null, startedAt: null, spentUsd: null, status: 'RUNNING', requeued: null };
    // The feed's callbacks reach the entry it belongs to; both are set right below.
    const made = { cycle, logs: new Map(), sinks: new Map() } as Entry;
    made.feed = new CycleFeed(
      {
        snapshot: (run) => {
          made.snapshot = run;
          if (this.followedId === runId) this.target?.snapshot(run);
        },
        resetLog: (stream, title) => this.resetLog(made, stream, title),
        appendLog: (stream, text) => void this.sink(made, stream).write(text),
        status: (v) => this.status(cycle, v),
      },
      this.budgetUsd(),
    );
    made.snapshot = made.feed.current;
    this.entries.set(runId, made);
    this.prune(ENDED_KEEP);
    return made;
  }

  private route(runId: string, e: CycleEvent): void {
    this.entry(runId).feed.handle(e);
  }

  private status(c: LiveCycle, v: CycleStatusView): void {
    if (v.ticketId) c.ticketId = v.ticketId;
    if (v.startedAt !== undefined) c.startedAt ??= v.startedAt;
    if (v.costUsd !== undefined && v.costUsd !== null) c.spentUsd = v.costUsd;
    if (v.phase !== 'IDLE') c.phase = v.phase;
  }

  private ended(runId: string): void {
    const e = this.entries.get(runId);
    if (!e) return;
    e.cycle.status = e.snapshot.status;
    e.cycle.phase = null;
    e.cycle.spentUsd = e.snapshot.cost.spentUsd;
    void this.endSinks(e);
  }

  private resetLog(e: Entry, stream: LogStream, title: string): void {
    e.logs.set(stream, { title, chunks: [], chars: 0 });
    if (this.followedId === e.cycle.runId) this.target?.resetLog(stream, title);
  }

  /** The cycle's redacting sink for `stream`: what comes out is buffered, and shown when followed. */
  private sink(e: Entry, stream: LogStream): LogSink {
    let s = e.sinks.get(stream);
    if (s) return s;
    s = this.makeSink(async (text) => {
      const b = e.logs.get(stream) ?? { title: stream === 'gate' ? 'Gate log (live)' : 'Worker log (live)', chunks: [], chars: 0 };
      e.logs.set(stream, b);
      if (b.chars < LIVE_KEEP_CHARS) {
        b.chunks.push(text);
        b.chars += text.length;
      }
      if (this.followedId === e.cycle.runId) this.target?.appendLog(stream, text);
      return true;
    });
    e.sinks.set(stream, s);
    return s;
  }

  private async endSinks(e: Entry): Promise<void> {
    const sinks = [...e.sinks.values()];
    e.sinks.clear();
    await Promise.all(sinks.map((s) => s.end().catch(() => undefined)));
  }

  /** Drops the oldest ended cycles beyond `keep` (never one in flight, never the followed one). */
  private prune(keep: number): void {
    const ended = [...this.entries.values()].filter((e) => e.cycle.status !== 'RUNNING' && e.cycle.runId !== this.followedId);
    for (const e of ended.slice(0, Math.max(0, ended.length - keep))) {
      void this.endSinks(e);
      this.entries.delete(e.cycle.runId);
    }
  }
}

/** The selector's entries: the cycles in flight first (in start order), then the ended ones, newest first. */
export function cycleChoices(live: LiveRuns): CycleChoice[] {
  const all = live.cycles;
  const ordered = [...all.filter((c) => c.status === 'RUNNING'), ...all.filter((c) => c.status !== 'RUNNING').reverse()];
  return ordered.slice(0, CYCLE_CHOICES_MAX).map((c) => ({
    runId: c.runId,
    ticketId: c.ticketId,
    phase: c.status === 'RUNNING' ? (c.merge && c.merge !== 'committed' ? `merge: ${c.merge}` : c.phase) : null,
    status: c.status,
    spentUsd: c.spentUsd,
  }));
}
