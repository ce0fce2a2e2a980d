import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { copyTreeForGate } from '../../../src/core/gate/gate-tree';

describe('gate tree copy (container Gate over the working tree)', () => {
  let tmp: string;
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-tree-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('leaves out .git (any depth), .env files and the Controller folders, keeps symlinks as links, and is removed by dispose', async () => {
    const w = (rel: string, text = 'x') => {
      fs.mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
      fs.writeFileSync(path.join(tmp, rel), text);
    };
    w('engine/pnl.py', 'def f(): pass\n');
    w('.git/HEAD');
    w('vendor/lib/.git/config');
    w('.env', 'KEY=secret');
    w('.env.local', 'KEY=secret');
    w('svc/.env', 'KEY=secret');
    w('logs/evidence/run/manifest.json');
    w('logs/autopilot/plan.json');
    w('logs/app.log', 'kept: only the configured folders are left out');
    fs.symlinkSync('/etc/hostname', path.join(tmp, 'engine/link'));
    const copy = await copyTreeForGate(tmp, { exclude: ['logs/evidence', 'logs/autopilot'] });
    const list = (dir: string, rel = ''): string[] =>
      fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((d) => {
        const r = rel ? `${rel}/${d.name}` : d.name;
        return d.isDirectory() ? list(dir, r) : [r];
      });
    assert.deepEqual(list(copy.dir).sort(), ['engine/link', 'engine/pnl.py', 'logs/app.log']);
    assert.equal(fs.readlinkSync(path.join(copy.dir, 'engine/link')), '/etc/hostname');
    assert.ok(path.basename(copy.dir).startsWith('factory-gate-'), 'the orphan reaper may delete it');
    assert.equal(fs.statSync(copy.dir).mode & 0o777, 0o755);
    if (process.getuid?.() === 0) assert.equal(fs.statSync(path.join(copy.dir, 'engine/pnl.py')).uid, 1000);
    await copy.dispose();
    assert.equal(fs.existsSync(copy.dir), false);
  });
});
