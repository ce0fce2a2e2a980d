import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REDACTED } from '../../../src/core/gateway/redact';
import { createLogSink, MAX_MESSAGE_CHARS } from '../../../src/extension/panels/run/log-sink';
import { resolveEvidenceFile } from '../../../src/extension/panels/run/run-snapshot';

const KEY = 'sk-ant-api03-SPLIT-ACROSS-CHUNKS-0123456789abcdef';

describe('Run panel live log and evidence links', () => {
  it('SEC-25 a key split across live output chunks at every position never reaches the panel', async () => {
    const text = `before ${KEY} middle ${KEY} after ✅ ünïcode\n`;
    for (let cut = 1; cut < text.length; cut += 3) {
      const posted: string[] = [];
      const sink = createLogSink([KEY], async (t) => {
        posted.push(t);
        return true;
      });
      // Byte-level cut: also splits multi-byte characters.
      const bytes = Buffer.from(text, 'utf8');
      await sink.write(bytes.subarray(0, cut));
      await sink.write(bytes.subarray(cut));
      await sink.end();
      const all = posted.join('');
      assert.equal(all, text.split(KEY).join(REDACTED), `cut at ${cut}`);
      assert.ok(!posted.some((p) => p.includes(KEY.slice(0, 20)) || p.includes(KEY.slice(-20))), `no part of the key leaks (cut ${cut})`);
    }
  });

  it('live output is posted in messages under the protocol cap, and stops once the panel is gone', async () => {
    const posted: string[] = [];
    let open = true;
    const sink = createLogSink([], async (t) => {
      posted.push(t);
      return open;
    });
    await sink.write('x'.repeat(MAX_MESSAGE_CHARS * 2 + 10));
    assert.deepEqual(posted.map((p) => p.length), [MAX_MESSAGE_CHARS, MAX_MESSAGE_CHARS, 10]);
    open = false;
    await sink.write('gone?');
    await sink.write('still gone');
    await sink.end();
    assert.equal(posted.length, 4, 'one refused post, then nothing');
  });

  it('SEC-22 an evidence link opens only a listed regular file inside the run folder', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-evidence-link-'));
    try {
      const run = path.join(root, 'run');
      fs.mkdirSync(path.join(run, 'artifacts'), { recursive: true });
      fs.writeFileSync(path.join(run, 'gate.log'), 'ok');
      fs.writeFileSync(path.join(run, 'artifacts', 'a.txt'), 'ok');
      fs.writeFileSync(path.join(root, 'outside.txt'), 'secret');
      fs.symlinkSync(path.join(root, 'outside.txt'), path.join(run, 'link.txt'));
      fs.symlinkSync(root, path.join(run, 'dirlink'));
      const listed = ['gate.log', 'artifacts/a.txt', 'link.txt', 'dirlink/outside.txt', '../outside.txt', 'artifacts'];
      assert.equal(resolveEvidenceFile(run, listed, 'gate.log'), path.join(run, 'gate.log'));
      assert.equal(resolveEvidenceFile(run, listed, 'artifacts/a.txt'), path.join(run, 'artifacts', 'a.txt'));
      assert.equal(resolveEvidenceFile(run, listed, 'README.md'), undefined, 'not listed');
      assert.equal(resolveEvidenceFile(run, listed, 'link.txt'), undefined, 'a symlink is not opened');
      assert.equal(resolveEvidenceFile(run, listed, 'dirlink/outside.txt'), undefined, 'a symlinked folder does not lead out');
      assert.equal(resolveEvidenceFile(run, listed, '../outside.txt'), undefined, 'no traversal');
      assert.equal(resolveEvidenceFile(run, listed, 'artifacts'), undefined, 'a folder is not a file');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
