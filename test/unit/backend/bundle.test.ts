import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { bundleFromBody, packBody, packBundle } from '../../../src/core/backend/swarm/bundle';
import { mirrorTree } from '../../../src/core/backend/swarm/mirror';
import { extractResult, TransferRefused } from '../../../src/core/backend/swarm/result-extract';

/** Every entry of a tar: name → type, linkname and content. */
async function readTar(file: string): Promise<Map<string, { type: string; linkname?: string; body: string; mode: number }>> {
  const out = new Map<string, { type: string; linkname?: string; body: string; mode: number }>();
  const ex = tar.extract();
  ex.on('entry', (h: tar.Headers, s: NodeJS.ReadableStream, next: () => void) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => {
      out.set(h.name, { type: h.type ?? 'file', ...(h.linkname ? { linkname: h.linkname } : {}), body: Buffer.concat(chunks).toString(), mode: h.mode ?? 0 });
      next();
    });
  });
  await pipeline(fs.createReadStream(file), ex);
  return out;
}

type E = { name: string; type?: tar.Headers['type']; body?: string; linkname?: string; mode?: number };
async function writeTar(file: string, entries: E[]): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, fs.createWriteStream(file));
  for (const e of entries) {
    await new Promise<void>((res, rej) => {
      const cb = (err?: Error | null) => (err ? rej(err) : res());
      const h: tar.Headers = { name: e.name, type: e.type ?? 'file', mode: e.mode ?? 0o644, ...(e.linkname ? { linkname: e.linkname } : {}) };
      if (e.body !== undefined) pack.entry(h, e.body, cb);
      else pack.entry(h, cb).end();
    });
  }
  pack.finalize();
  await done;
}

describe('swarm bundle and result archive', () => {
  let tmp: string;
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-test-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  function tree(name: string, files: Record<string, string>): string {
    const root = path.join(tmp, name);
    fs.mkdirSync(root, { recursive: true });
    for (const [rel, body] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), body);
    }
    return root;
  }

  it('packs the manifest first, each mount as m<k>, links as links, set-id bits dropped', async () => {
    const ws = tree('ws', { 'a.txt': 'A', 'src/b.py': 'print(1)' });
    fs.symlinkSync('a.txt', path.join(ws, 'link'));
    fs.chmodSync(path.join(ws, 'src/b.py'), 0o4775);
    const out = tree('out', {});
    const dest = path.join(tmp, 'bundle.tar');
    const info = await packBundle(dest, { mounts: [{ dir: 'm0', hostPath: ws, containerPath: '/workspace', readOnly: false }, { dir: 'm1', hostPath: out, containerPath: '/factory/out', readOnly: false }], cmd: ['node', 'x'], env: { A: '1' }, workdir: '/workspace', gatewaySocket: '/factory/gateway/gateway.sock', capBytes: 1024 });
    const entries = await readTar(dest);
    assert.equal([...entries.keys()][0], 'manifest.json');
    const manifest = JSON.parse(entries.get('manifest.json')?.body ?? '{}') as typeof info.manifest;
    assert.deepEqual(manifest.mounts, [{ dir: 'm0', containerPath: '/workspace', readOnly: false }, { dir: 'm1', containerPath: '/factory/out', readOnly: false }]);
    assert.equal(manifest.gatewaySocket, '/factory/gateway/gateway.sock');
    assert.equal(entries.get('m0/a.txt')?.body, 'A');
    assert.equal(entries.get('m0/src/b.py')?.mode, 0o755, 'set-id bits dropped');
    assert.deepEqual({ type: entries.get('m0/link')?.type, to: entries.get('m0/link')?.linkname }, { type: 'symlink', to: 'a.txt' });
    assert.equal(entries.get('m1/')?.type, 'directory');
    assert.equal(info.totalBytes, 9);
    assert.equal((fs.statSync(dest).mode & 0o777).toString(8), '600');
  });

  it('refuses an input past the transfer cap', async () => {
    const ws = tree('ws', { big: 'x'.repeat(2000) });
    await assert.rejects(packBundle(path.join(tmp, 'b.tar'), { mounts: [{ dir: 'm0', hostPath: ws, containerPath: '/workspace', readOnly: true }], cmd: ['true'], env: {}, workdir: '/workspace', capBytes: 1000 }), (e: Error & { code?: string }) => e.code === 'swarm.transfer');
    assert.equal(fs.existsSync(path.join(tmp, 'b.tar')), false);
  });

  it('a body packed once makes valid bundles that differ by manifest', async () => {
    const ws = tree('ws', { 'x.txt': 'X' });
    const body = await packBody(path.join(tmp, 'body.tar'), [{ dir: 'm0', hostPath: ws, containerPath: '/workspace', readOnly: true }], 1 << 20);
    for (const cmd of [['a'], ['b', 'c']]) {
      const dest = path.join(tmp, `${cmd[0]}.tar`);
      await bundleFromBody(dest, body, { cmd, env: {}, workdir: '/workspace' });
      const entries = await readTar(dest);
      assert.deepEqual((JSON.parse(entries.get('manifest.json')?.body ?? '{}') as { cmd: string[] }).cmd, cmd);
      assert.equal(entries.get('m0/x.txt')?.body, 'X');
    }
  });

  async function extract(entries: E[], cap = 1 << 20): Promise<string> {
    const archive = path.join(tmp, 'result.tar');
    await writeTar(archive, entries);
    const into = fs.mkdtempSync(path.join(tmp, 'scratch-'));
    await extractResult(archive, { dirs: ['m0', 'm1'], capBytes: cap, into });
    return into;
  }

  it('extracts files, folders and an inside link with masked modes', async () => {
    const into = await extract([
      { name: 'm0/', type: 'directory' },
      { name: 'm0/d/', type: 'directory', mode: 0o777 },
      { name: 'm0/d/f.sh', body: '#!', mode: 0o6777 },
      { name: 'm0/l', type: 'symlink', linkname: 'd/f.sh' },
      { name: 'm1/r.json', body: '{}' },
    ]);
    assert.equal(fs.readFileSync(path.join(into, 'm0/d/f.sh'), 'utf8'), '#!');
    assert.equal((fs.statSync(path.join(into, 'm0/d/f.sh')).mode & 0o7777).toString(8), '755');
    assert.equal(fs.readlinkSync(path.join(into, 'm0/l')), 'd/f.sh');
    assert.equal(fs.readFileSync(path.join(into, 'm1/r.json'), 'utf8'), '{}');
  });

  const refusals: [string, E[]][] = [
    ['a path with ..', [{ name: 'm0/../evil', body: 'x' }]],
    ['an absolute path', [{ name: '/etc/evil', body: 'x' }]],
    ['an unknown folder', [{ name: 'm7/x', body: 'x' }]],
    ['a link leaving its folder', [{ name: 'm0/l', type: 'symlink', linkname: '../../etc/passwd' }]],
    ['an absolute link', [{ name: 'm0/l', type: 'symlink', linkname: '/etc/passwd' }]],
    ['a write through a link', [{ name: 'm0/d', type: 'symlink', linkname: 'e' }, { name: 'm0/d/x', body: 'x' }]],
    ['a hard link', [{ name: 'm0/a', body: 'a' }, { name: 'm0/h', type: 'link', linkname: 'm0/a' }]],
    ['a device', [{ name: 'm0/dev', type: 'character-device' }]],
    ['a FIFO', [{ name: 'm0/p', type: 'fifo' }]],
    ['a .git folder', [{ name: 'm0/.git/config', body: 'x' }]],
  ];
  for (const [what, entries] of refusals) {
    it(`SEC-08 SEC-09 SEC-16 the untrusted result archive: refuses ${what}`, async () => {
      await assert.rejects(extract(entries), (e: unknown) => e instanceof TransferRefused && e.code === 'swarm.transfer' && !e.overSize);
      assert.equal(fs.existsSync('/etc/evil'), false);
    });
  }

  it('refuses files past the cap as a size refusal', async () => {
    await assert.rejects(extract([{ name: 'm0/a', body: 'x'.repeat(600) }, { name: 'm0/b', body: 'y'.repeat(600) }], 1000), (e: unknown) => e instanceof TransferRefused && e.overSize);
  });

  it('refuses garbage as no tar', async () => {
    const archive = path.join(tmp, 'result.tar');
    fs.writeFileSync(archive, 'x'.repeat(3000));
    await assert.rejects(extractResult(archive, { dirs: ['m0'], capBytes: 1 << 20, into: fs.mkdtempSync(path.join(tmp, 's-')) }), TransferRefused);
  });

  it('mirrors: keeps equal files untouched, writes changed and new ones, deletes what the task deleted', () => {
    const host = tree('host', { 'same.txt': 'same', 'changed.txt': 'old', 'gone.txt': 'bye', 'dir/gone/x': 'x' });
    fs.symlinkSync('/etc', path.join(host, 'was-link'));
    const src = tree('src', { 'same.txt': 'same', 'changed.txt': 'new', 'new/n.txt': 'n', 'was-link/y': 'y', dir: '' });
    fs.rmSync(path.join(src, 'dir'));
    fs.mkdirSync(path.join(src, 'dir'));
    const inoSame = fs.statSync(path.join(host, 'same.txt')).ino;
    const stats = mirrorTree(src, host);
    assert.equal(fs.statSync(path.join(host, 'same.txt')).ino, inoSame, 'an unchanged file is left in place');
    assert.equal(fs.readFileSync(path.join(host, 'changed.txt'), 'utf8'), 'new');
    assert.equal(fs.readFileSync(path.join(host, 'new/n.txt'), 'utf8'), 'n');
    assert.equal(fs.existsSync(path.join(host, 'gone.txt')), false);
    assert.equal(fs.existsSync(path.join(host, 'dir/gone')), false);
    assert.equal(fs.lstatSync(path.join(host, 'was-link')).isDirectory(), true, 'a link in the way is replaced, never entered');
    assert.equal(fs.existsSync('/etc/y'), false);
    assert.ok(stats.removed >= 2 && stats.kept >= 1);
  });
});
