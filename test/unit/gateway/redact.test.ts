import * as assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { REDACTED, RedactingStream, redact, redactingLogger } from '../../../src/core/gateway/redact';
import type { Logger } from '../../../src/core/util/log';

const KEY = 'sk-ant-api03-AbCdEf0123456789';
const OTHER = 'AIzaSyTESTKEY-987654321';

describe('redaction of keys (SEC-25)', () => {
  it('SEC-25 a key that appears in any text is replaced before it is shown or stored', () => {
    assert.equal(redact(`auth failed for ${KEY}; retry with ${OTHER} or ${KEY}`, [KEY, OTHER]), `auth failed for ${REDACTED}; retry with ${REDACTED} or ${REDACTED}`);
    // A secret containing another is replaced whole (longest first).
    assert.equal(redact(`x ${KEY}-suffix`, [KEY, `${KEY}-suffix`]), `x ${REDACTED}`);
    // Empty, missing and too-short "keys" do not shred ordinary text.
    assert.equal(redact('a b c', ['', undefined, 'a']), 'a b c');
  });

  it('SEC-25 a stream is redacted chunk by chunk, even when the key is split across chunks at every position', async () => {
    const payload = `data: {"error":"bad key ${KEY}"}\n\ndata: ${KEY}${KEY}\n\n`;
    for (let cut = 1; cut < payload.length; cut += 3) {
      const chunks = [payload.slice(0, cut), payload.slice(cut)].map((s) => Buffer.from(s));
      const out = await text(Readable.from(chunks).pipe(new RedactingStream([KEY])));
      assert.equal(out, payload.split(KEY).join(REDACTED), `cut at ${cut}`);
    }
    // One byte at a time.
    const out = await text(Readable.from([...Buffer.from(payload)].map((b) => Buffer.from([b]))).pipe(new RedactingStream([KEY, OTHER])));
    assert.ok(!out.includes(KEY) && out.includes(REDACTED));
  });

  it('a stream holds back at most (longest key − 1) bytes, so streaming is not buffered', async () => {
    const r = new RedactingStream([KEY]);
    const got: Buffer[] = [];
    r.on('data', (c: Buffer) => got.push(c));
    r.write(Buffer.from('x'.repeat(1000)));
    await new Promise((res) => setImmediate(res));
    assert.equal(Buffer.concat(got).length, 1000 - (KEY.length - 1));
    r.end();
  });

  it('SEC-25 a redacting logger cleans messages, errors and structured arguments', () => {
    const lines: string[] = [];
    const sink = (m: string | Error, ...a: unknown[]) => lines.push(`${String(m)} ${JSON.stringify(a)}`);
    const inner: Logger = { trace: sink, debug: sink, info: sink, warn: sink, error: sink };
    const log = redactingLogger(inner, () => [KEY]);
    log.info(`using ${KEY}`, { headers: { 'x-api-key': KEY } }, KEY);
    log.error(new Error(`upstream said ${KEY}`));
    assert.equal(lines.length, 2);
    for (const l of lines) assert.ok(!l.includes(KEY), l);
    assert.match(lines[0], /\[REDACTED\]/);
  });
});
