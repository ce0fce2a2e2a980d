import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { takeSnapshot } from '../../../src/core/changeset/snapshot';
import { writeBaseEntries } from '../../../src/core/sandbox/staging-snapshots';
import { beforeAgent, changedFiles, readBaseEntries, testing } from '../../../src/worker/changes';

/**
 * The runtime's own `files_changed` list: names before the agent, one ctime pass after. The
 * Controller never trusts it, but it must still be right, by find and by the Node fallback alike.
 */
describe('worker runtime: files_changed from one pass after the agent', () => {
  let root: string;
  const write = (f: string, s: string) => {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), s);
  };
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-wchanges-'));
    for (const f of ['a.py', 'b.py', 'c.py', 'same.py', 'mode.sh', 'gone/x.py', 'gone/y.py', 'becomes-dir', 'sub/deep/z.py', 'odd name\nwith newline.py', 'link-target.py']) write(f, f);
    fs.symlinkSync('link-target.py', path.join(root, 'link'));
    fs.mkdirSync(path.join(root, 'empty-dir'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  /** The tree as the export left it, then the runtime starts a little later. */
  async function mark() {
    await sleep(30);
    return beforeAgent(root, Date.now());
  }

  function agentEdits() {
    write('a.py', 'changed');
    fs.writeFileSync(path.join(root, 'same.py'), 'same.py'); // rewritten with the same bytes: still touched
    fs.chmodSync(path.join(root, 'mode.sh'), 0o755);
    fs.rmSync(path.join(root, 'c.py'));
    fs.rmSync(path.join(root, 'gone'), { recursive: true });
    fs.rmSync(path.join(root, 'becomes-dir'));
    write('becomes-dir/inner.py', 'x');
    write('new/dir/n.py', 'new');
    fs.rmSync(path.join(root, 'empty-dir'), { recursive: true });
    fs.rmSync(path.join(root, 'link'));
    fs.symlinkSync('a.py', path.join(root, 'link'));
    fs.rmSync(path.join(root, 'sub', 'deep'), { recursive: true }); // a folder that becomes a file
    write('sub/deep', 'now a file');
  }
  const expected = ['a.py', 'becomes-dir', 'becomes-dir/inner.py', 'c.py', 'gone/x.py', 'gone/y.py', 'link', 'mode.sh', 'new/dir/n.py', 'same.py', 'sub/deep', 'sub/deep/z.py'].sort();

  it('lists created, changed, re-moded, replaced and removed files, and nothing untouched (GNU find)', async () => {
    const before = await mark();
    assert.ok(before.names.has('odd name\nwith newline.py') && before.names.get('sub') === true);
    agentEdits();
    const found = testing.findChanged(root, before.sinceNs);
    assert.ok(found, 'GNU find ran');
    assert.ok(!found.files.has('b.py') && found.dirs.has('') && !found.dirs.has('sub/deep'), 'only what changed is listed');
    assert.deepEqual(changedFiles(root, before), expected);
  });

  it('the Node walk (images without GNU find) gives the same answer', async () => {
    const before = await mark();
    agentEdits();
    assert.deepEqual(changedFiles(root, before, false), expected);
    assert.deepEqual(changedFiles(root, before, true), expected);
  });

  it('an agent that changes nothing leaves an empty list; one that only touches a file is listed', async () => {
    const before = await mark();
    assert.deepEqual(changedFiles(root, before), []);
    const now = new Date();
    fs.utimesSync(path.join(root, 'b.py'), now, new Date(0)); // mtime set back: the ctime still moves
    assert.deepEqual(changedFiles(root, before), ['b.py']);
  });

  it('names with a newline or a leading dash survive the NUL-separated listing', async () => {
    const before = await mark();
    write('-rf', 'x');
    write('odd name\nwith newline.py', 'changed');
    assert.deepEqual(changedFiles(root, before), ['-rf', 'odd name\nwith newline.py']);
  });

  it('the names the Controller hands over (base-entries, from its own snapshot) give the same list as the runtime\'s own walk', async () => {
    const control = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-wcontrol-'));
    try {
      writeBaseEntries({ control }, takeSnapshot(root, { hashFiles: false }));
      const known = readBaseEntries(path.join(control, 'base-entries'));
      await sleep(30);
      const t = Date.now();
      const walked = beforeAgent(root, t);
      const handed = beforeAgent(root, t, known);
      assert.deepEqual([...handed.names].sort(), [...walked.names].sort());
      agentEdits();
      assert.deepEqual(changedFiles(root, handed), expected);
      assert.equal(readBaseEntries(path.join(control, 'missing')), undefined, 'no file: the runtime walks itself');
    } finally {
      fs.rmSync(control, { recursive: true, force: true });
    }
  });
});
