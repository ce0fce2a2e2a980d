import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { validateEvidence } from '../../../src/core/evidence/validator';

const ROOT = path.resolve(__dirname, '../../..');

/** A temporary workspace with a roadmap and an empty `.factory/` for the test's config. */
function workspace(): string {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-cli-'));
  fs.mkdirSync(path.join(tmp, '.factory'));
  fs.writeFileSync(path.join(tmp, 'D_ROADMAP.md'), '# Roadmap\n');
  return tmp;
}

describe('factory gate interrupted (CLI)', function () {
  this.timeout(60_000);
  let tmp: string;
  beforeEach(() => {
    tmp = workspace();
    fs.writeFileSync(
      path.join(tmp, '.factory', 'config.json'),
      JSON.stringify({
        guards: [],
        gate: {
          runIn: 'host',
          stages: [
            { name: 'fast', command: [process.execPath, '-e', "console.log('stage started'); setInterval(() => {}, 1000)"], timeoutSeconds: 60 },
            { name: 'regression', command: [process.execPath, '-e', 'process.exit(0)'], timeoutSeconds: 60 },
          ],
        },
      }),
    );
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('Ctrl-C stops the running stage, records the run as ABORTED with valid evidence, and exits 130', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'gate', '--root', tmp, '-v'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`the stage never started:\n${stderr}`)), 30_000);
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        if (stderr.includes('stage started')) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    const runs = fs.readdirSync(path.join(tmp, 'logs', 'evidence'));
    assert.equal(runs.length, 1);
    const check = validateEvidence(path.join(tmp, 'logs', 'evidence', runs[0]));
    assert.deepEqual(check.problems, []);
    assert.equal(check.manifest?.status, 'ABORTED');
    assert.deepEqual(check.manifest?.gates, { fast: 'ERROR', regression: 'SKIPPED' });
    assert.match(fs.readFileSync(path.join(tmp, 'logs', 'evidence', runs[0], 'error.log'), 'utf8'), /Reason: the Gate was interrupted/);
  });
});

describe('factory gate refuses a Gate that cannot run as configured (CLI)', function () {
  this.timeout(60_000);
  let tmp: string;
  beforeEach(() => {
    tmp = workspace();
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const gate = (config: unknown) => {
    fs.writeFileSync(path.join(tmp, '.factory', 'config.json'), JSON.stringify(config));
    return new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'gate', '--root', tmp], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
  };

  it('no stage: exit 2 naming gate.stages, no evidence written (never "ALL GATES PASS" with nothing run)', async () => {
    const r = await gate({ guards: [], gate: { runIn: 'host', stages: [] } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /gate\.stages: no stage is configured/);
    assert.equal(fs.existsSync(path.join(tmp, 'logs', 'evidence')), false);
  });

  it('a stage whose script is not in the repository: exit 2 naming its key', async () => {
    const r = await gate({ guards: [], gate: { runIn: 'host', stages: [{ name: 'fast', command: ['bash', 'tests/run.sh'] }] } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /gate\.stages\[0\]\.command: tests\/run\.sh does not exist/);
  });
});
