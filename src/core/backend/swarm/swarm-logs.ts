/**
 * A swarm job's output: the service's log stream (follow) while its task runs, then one
 * non-follow read once the task has ended for whatever the stream had not delivered yet (a follow
 * stream of a swarm service never ends by itself: it waits for the next task). Recorded into the
 * log file and the subscriber up to the cap, like a local container's attach stream.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { AttachDemuxer, ENGINE_CALL_MS, withTimeout } from '../../sandbox/engine-calls';
import { errorMessage } from '../../util/errors';
import type { Logger } from '../../util/log';

type Stream = 'stdout' | 'stderr';

export interface LogSink {
  capBytes: number;
  logFile?: string;
  onOutput?: (stream: Stream, chunk: Buffer) => void;
  logger: Logger;
  warnings: string[];
}

/** Output of one job, capped; counts what each stream delivered so a catch-up read can skip it. */
export class SwarmLogRecorder {
  outputBytes = 0;
  truncated = false;
  private recorded = 0;
  private readonly received: Record<Stream, number> = { stdout: 0, stderr: 0 };
  private readonly log: fs.WriteStream | undefined;
  private follow: Readable | undefined;

  constructor(private readonly sink: LogSink) {
    if (sink.logFile) {
      fs.mkdirSync(path.dirname(sink.logFile), { recursive: true });
      this.log = fs.createWriteStream(sink.logFile, { flags: 'a', mode: 0o600 });
      this.log.on('error', (err) => sink.warnings.push(`log file: ${err.message}`));
    }
  }

  private record(stream: Stream, chunk: Buffer): void {
    this.received[stream] += chunk.length;
    this.outputBytes += chunk.length;
    if (this.recorded >= this.sink.capBytes) {
      this.truncated = true;
      return;
    }
    const part = this.recorded + chunk.length > this.sink.capBytes ? chunk.subarray(0, this.sink.capBytes - this.recorded) : chunk;
    this.recorded += part.length;
    if (part.length < chunk.length) this.truncated = true;
    this.log?.write(part);
    try {
      this.sink.onOutput?.(stream, part);
    } catch (err) {
      this.sink.logger.warn(`output subscriber failed: ${errorMessage(err)}`);
    }
  }

  /** Follow the service's logs (once); a failure is a warning: the catch-up read still gets the output. */
  async startFollow(docker: Docker, serviceId: string): Promise<void> {
    if (this.follow) return;
    try {
      const stream = (await withTimeout(docker.getService(serviceId).logs({ follow: true, stdout: true, stderr: true }), ENGINE_CALL_MS, 'service logs')) as unknown as Readable;
      this.follow = stream;
      const demux = new AttachDemuxer((s, c) => this.record(s, c));
      stream.on('data', (c: Buffer) => demux.push(c));
      stream.on('error', () => undefined);
    } catch (err) {
      this.sink.warnings.push(`service logs: ${errorMessage(err)}`);
    }
  }

  /** Stop following. */
  stopFollow(): void {
    this.follow?.destroy();
  }

  /** Stop following, then read the whole log once and record only what each stream has not delivered yet. */
  async catchUp(docker: Docker, serviceId: string, callMs = ENGINE_CALL_MS): Promise<void> {
    this.stopFollow();
    let raw: Buffer;
    try {
      raw = (await withTimeout(docker.getService(serviceId).logs({ follow: false, stdout: true, stderr: true }), callMs, 'service logs')) as unknown as Buffer;
    } catch (err) {
      this.sink.warnings.push(`service logs after the task: ${errorMessage(err)}`);
      return;
    }
    if (!Buffer.isBuffer(raw)) return;
    const offset: Record<Stream, number> = { stdout: 0, stderr: 0 };
    const seen = { ...this.received };
    new AttachDemuxer((s, c) => {
      const skip = Math.max(0, Math.min(c.length, seen[s] - offset[s]));
      offset[s] += c.length;
      if (skip < c.length) this.record(s, c.subarray(skip));
    }).push(raw);
  }

  async close(): Promise<void> {
    this.stopFollow();
    const log = this.log;
    if (log) await new Promise<void>((r) => log.end(r));
    if (this.truncated) this.sink.warnings.push(`output beyond ${this.sink.capBytes} bytes was dropped (${this.outputBytes} bytes received)`);
  }
}
