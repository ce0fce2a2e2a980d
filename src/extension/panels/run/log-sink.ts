/**
 * Live output (the Worker's or the Gate's, as the cycle produces it) → `log.append` messages. The
 * bytes go through the core's streaming redactor first, so a key split across two chunks is still
 * caught (the channel's per-message redaction alone could not see it), then a UTF-8 decoder that
 * keeps multi-byte characters whole, then out in messages under the protocol's size cap.
 * No `vscode` here: plain mocha tests it.
 */
import { StringDecoder } from 'node:string_decoder';
import { RedactingStream } from '../../../core/gateway/redact';

/** Largest text per posted message (well under the protocol's 1 MB cap). */
export const MAX_MESSAGE_CHARS = 256 * 1024;

export interface LogSink {
  /** Queues a chunk of output; resolves once everything written so far was posted. */
  write(chunk: string | Buffer): Promise<void>;
  /** Flushes what the redactor held back (the tail that could have begun a key) and ends. */
  end(): Promise<void>;
}

/** A sink that posts redacted text with `post` (which returns false once the panel is gone). */
export function createLogSink(secrets: Iterable<string | undefined>, post: (text: string) => Promise<boolean>): LogSink {
  const redactor = new RedactingStream(secrets);
  const decoder = new StringDecoder('utf8');
  let chain: Promise<unknown> = Promise.resolve();
  let closed = false;
  const send = (text: string): void => {
    if (!text || closed) return;
    for (let i = 0; i < text.length; i += MAX_MESSAGE_CHARS) {
      const part = text.slice(i, i + MAX_MESSAGE_CHARS);
      chain = chain.then(async () => {
        if (!closed && !(await post(part))) closed = true;
      });
    }
  };
  redactor.on('data', (b: Buffer) => send(decoder.write(b)));
  return {
    async write(chunk) {
      await new Promise<void>((resolve) => redactor.write(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk, () => resolve()));
      // Let the transformed data reach the 'data' listener before waiting for the posts.
      await new Promise((resolve) => setImmediate(resolve));
      await chain;
    },
    async end() {
      await new Promise<void>((resolve) => redactor.end(resolve));
      send(decoder.end());
      await chain;
    },
  };
}
