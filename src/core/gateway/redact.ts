import { Transform, type TransformCallback } from 'node:stream';
import type { Logger } from '../util/log';

/** What a secret is replaced with wherever it would be shown or stored. */
export const REDACTED = '[REDACTED]';

/** Secrets shorter than this are not redacted (they would shred ordinary text) and are refused by the key store. */
export const MIN_SECRET_LENGTH = 8;

function usable(secrets: Iterable<string | undefined>): string[] {
  // Longest first so a secret that contains another is replaced whole.
  return [...new Set([...secrets].filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH))].sort((a, b) => b.length - a.length);
}

/** `text` with every occurrence of every secret replaced by [REDACTED]. */
export function redact(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  for (const s of usable(secrets)) out = out.split(s).join(REDACTED);
  return out;
}

/**
 * A byte stream with the secrets replaced, without buffering the whole stream: it holds back only
 * the last (longest secret − 1) bytes of each chunk, in case a secret is split across chunks.
 */
export class RedactingStream extends Transform {
  private readonly secrets: Buffer[];
  private readonly holdBack: number;
  private pending: Buffer = Buffer.alloc(0);

  constructor(secrets: Iterable<string | undefined>) {
    super();
    this.secrets = usable(secrets).map((s) => Buffer.from(s, 'utf8'));
    this.holdBack = Math.max(0, ...this.secrets.map((s) => s.length - 1));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.secrets.length === 0) return done(null, chunk);
    const data = this.replaceAll(Buffer.concat([this.pending, chunk]));
    // Keep a tail that could be the start of a secret; everything before it is safe to emit.
    const cut = Math.max(0, data.length - this.holdBack);
    this.pending = data.subarray(cut);
    done(null, data.subarray(0, cut));
  }

  override _flush(done: TransformCallback): void {
    done(null, this.pending);
  }

  private replaceAll(data: Buffer): Buffer {
    let out = data;
    for (const s of this.secrets) {
      let at = out.indexOf(s);
      if (at < 0) continue;
      const parts: Buffer[] = [];
      let from = 0;
      while (at >= 0) {
        parts.push(out.subarray(from, at), Buffer.from(REDACTED));
        from = at + s.length;
        at = out.indexOf(s, from);
      }
      parts.push(out.subarray(from));
      out = Buffer.concat(parts);
    }
    return out;
  }
}

/** A Logger that redacts the secrets from every message and argument before passing it on. */
export function redactingLogger(inner: Logger, secrets: () => Iterable<string | undefined>): Logger {
  const clean = (m: string | Error): string => redact(m instanceof Error ? m.stack ?? m.message : m, secrets());
  const args = (a: unknown[]): unknown[] => a.map((x) => (typeof x === 'string' ? redact(x, secrets()) : JSON.parse(redact(JSON.stringify(x) ?? 'null', secrets())) as unknown));
  return {
    trace: (m, ...a) => inner.trace(clean(m), ...args(a)),
    debug: (m, ...a) => inner.debug(clean(m), ...args(a)),
    info: (m, ...a) => inner.info(clean(m), ...args(a)),
    warn: (m, ...a) => inner.warn(clean(m), ...args(a)),
    error: (m, ...a) => inner.error(clean(m), ...args(a)),
  };
}
