import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readHistory } from '../../../src/core/history/history';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Start a writer process, let it write for `ms`, then SIGKILL it wherever it is. */
async function killMidWrite(script: string, ms: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`writer exited early (${code})`)));
  });
  await new Promise((r) => setTimeout(r, ms));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
}

describe('atomic state writes under SIGKILL', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-atomic-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('SEC-26 a kill at any point of atomicWrite leaves the old or the new file, both valid', async () => {
    const file = path.join(dir, 'state.json');
    // Two ~1 MB documents, each internally consistent: every value equals the `gen` field.
    const script = `const { atomicWrite } = require(${JSON.stringify(path.join(ROOT, 'src/core/util/atomic-write.ts'))});
      (async () => { let gen = 0; process.stdout.write('go\\n');
        for (;;) { gen++; await atomicWrite(${JSON.stringify(file)}, JSON.stringify({ gen, fill: Array(100000).fill(gen) })); } })();`;
    for (let round = 0; round < 5; round++) {
      await killMidWrite(script, 150 + round * 37);
      const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { gen: number; fill: number[] };
      assert.ok(doc.fill.length === 100000 && doc.fill.every((v) => v === doc.gen), `round ${round}: torn file`);
    }
  });

  it('SEC-26 history.jsonl appends killed mid-way leave a valid, fully chained history', async () => {
    const file = path.join(dir, 'history.jsonl');
    const script = `const { appendHistory } = require(${JSON.stringify(path.join(ROOT, 'src/core/history/history.ts'))});
      (async () => { let n = 0; process.stdout.write('go\\n');
        for (;;) { n++; await appendHistory(${JSON.stringify(file)}, { runId: 'r' + n, ticketId: 'T', status: 'FAIL', pad: 'x'.repeat(5000) }); } })();`;
    for (let round = 0; round < 5; round++) {
      await killMidWrite(script, 200 + round * 41);
      const h = readHistory(file);
      assert.deepEqual(h.problems, [], `round ${round}`);
      assert.ok(h.records.length > 0);
    }
  });
});
