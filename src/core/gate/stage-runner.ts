/**
 * The seam between the Gate's logic and the place its commands run. The host runner spawns a
 * process on this machine (`gate.runIn: "host"`, trusted setups); the container runner runs the
 * commands of one Gate in one sandbox container (the default: the code under test is untrusted).
 */

/** One command of a guard or stage, as the Gate hands it to a runner. */
export interface CommandSpec {
  /** argv: program followed by its arguments (never a shell string). */
  argv: string[];
  /** Hard time cap; the runner kills the command (and its children) when it is reached. */
  timeoutMs: number;
  /** Extra environment on top of the runner's minimal one. */
  env?: Record<string, string>;
  /** Short label for logs and container names (`doctor`, `Welding`). */
  label?: string;
  /** Live output (stdout and stderr interleaved) as it arrives, for a streaming log view. */
  onOutput?: (chunk: Buffer) => void;
  /**
   * The sum of the caps of this command and every later one of the same Gate: how long a
   * container that serves them all may live. Default: `timeoutMs`.
   */
  sessionTimeoutMs?: number;
}

/** What happened to one command. */
export interface CommandOutcome {
  /** Exit code, or null when the command was killed or never started. */
  exitCode: number | null;
  timedOut: boolean;
  aborted: boolean;
  /** Set when the command could not be started at all (missing program, engine error). */
  startError?: string;
  durationMs: number;
  /** Interleaved stdout+stderr, capped (the tail is kept: summaries are printed last). */
  output: string;
  truncated: boolean;
}

/** Runs gate commands against one tree (the working tree, or a cycle's staging copy). */
export interface StageRunner {
  readonly kind: 'host' | 'container';
  /**
   * What the commands run on, for the gate cache key: the image id for containers, a
   * description of the host toolchain otherwise.
   */
  identity(signal?: AbortSignal): Promise<string>;
  run(spec: CommandSpec, signal?: AbortSignal): Promise<CommandOutcome>;
  /** Release what the runner holds between commands (the Gate's container); `runGate` calls it when the Gate ends, on every path. */
  close?(): Promise<void>;
}

/** Default cap on captured output per command. */
export const DEFAULT_OUTPUT_CAP = 4 * 1024 * 1024;

/**
 * Keeps the last `cap` bytes of a stream of chunks. Test summaries come last, so the tail is what
 * the Gate needs; the head of a runaway log is what it can afford to drop.
 */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly cap = DEFAULT_OUTPUT_CAP) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.cap && this.chunks.length > 0) {
      const first = this.chunks[0];
      const excess = this.size - this.cap;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
      this.truncated = true;
    }
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
