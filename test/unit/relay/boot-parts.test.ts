import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { BootError, parseManifest } from '../../../src/relay/boot-manifest';
import { ByteReader, nextEntry, parseHeader } from '../../../src/relay/tar-split';
import { tempDir } from './fixture';

/** Every entry name of `tar` as the boot script's reader sees it (reading in small chunks). */
async function names(tar: Buffer): Promise<string[]> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < tar.length; i += 333) chunks.push(tar.subarray(i, i + 333));
  const reader = new ByteReader(Readable.from(chunks)[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  const out: string[] = [];
  for (;;) {
    const e = await nextEntry(reader);
    if (e === undefined) return out;
    out.push(`${e.header.type}:${e.name}`);
    await reader.read(e.dataBytes);
  }
}

describe('boot script parts: tar entry reader and manifest check', () => {
  let dir: string;
  const long = `${'a'.repeat(120)}/${'b'.repeat(130)}.txt`;
  before(() => {
    dir = tempDir('boot-parts-');
    fs.mkdirSync(path.join(dir, 'm0', path.dirname(long)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'm0', long), 'x'.repeat(1500));
    fs.symlinkSync('../elsewhere/' + 'c'.repeat(120), path.join(dir, 'm0', 'link'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const format of ['gnu', 'posix']) {
    it(`reads names of a ${format} archive, long names folded in`, async () => {
      const args = ['-c', `--format=${format}`, '-C', dir, 'm0'];
      const r = spawnSync('tar', args, { maxBuffer: 1 << 24 });
      assert.equal(r.status, 0, r.stderr.toString());
      const seen = await names(r.stdout);
      assert.ok(seen.includes(`0:m0/${long}`), seen.join('\n'));
      assert.ok(seen.includes('2:m0/link'), seen.join('\n'));
      assert.ok(seen.every((n) => !n.startsWith('x:') && !n.startsWith('L:') && !n.startsWith('K:')), seen.join('\n'));
    });
  }

  it('joins a ustar prefix and name', async () => {
    const name = `m1/${'p'.repeat(90)}/${'q'.repeat(60)}`;
    fs.mkdirSync(path.join(dir, path.dirname(name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), 'q');
    const r = spawnSync('tar', ['-c', '--format=ustar', '-C', dir, name]);
    assert.equal(r.status, 0, r.stderr.toString());
    assert.deepEqual(await names(r.stdout), [`0:${name}`]);
  });

  it('rejects a header with a bad checksum and ends at a zero block', () => {
    const r = spawnSync('tar', ['-c', '-C', dir, 'm0/link']);
    const block = Buffer.from(r.stdout.subarray(0, 512));
    assert.equal(parseHeader(Buffer.alloc(512)), undefined);
    block[10] ^= 1;
    assert.throws(() => parseHeader(block), /checksum/);
  });

  it('accepts a well-formed manifest and refuses relative, .. and duplicate paths', () => {
    const good = { schema_version: 1, mounts: [{ dir: 'm0', containerPath: '/work', readOnly: false }], cmd: ['node', 'x'], env: { A: 'b' }, workdir: '/work', gatewaySocket: '/factory/gateway/gateway.sock' };
    assert.deepEqual(parseManifest(Buffer.from(JSON.stringify(good))), good);
    const bad = (patch: Record<string, unknown>, why: RegExp): void => {
      assert.throws(() => parseManifest(Buffer.from(JSON.stringify({ ...good, ...patch }))), (err: unknown) => err instanceof BootError && why.test(err.message));
    };
    bad({ schema_version: 2 }, /schema_version/);
    bad({ mounts: [{ dir: 'm0', containerPath: 'work', readOnly: false }] }, /not absolute/);
    bad({ mounts: [{ dir: 'm0', containerPath: '/work/../etc', readOnly: false }] }, /segment/);
    bad({ mounts: [{ dir: 'm0', containerPath: '/', readOnly: false }] }, /cannot be \//);
    bad({ mounts: [{ dir: 'x0', containerPath: '/a', readOnly: false }] }, /m<k>/);
    bad({ mounts: [{ dir: 'm0', containerPath: '/a', readOnly: false }, { dir: 'm0', containerPath: '/b', readOnly: false }] }, /unique/);
    bad({ workdir: '/work/./x' }, /segment/);
    bad({ gatewaySocket: 'gateway.sock' }, /not absolute/);
    bad({ cmd: [] }, /empty/);
    bad({ env: { 'A=B': 'c' } }, /NAME=string/);
    assert.throws(() => parseManifest(Buffer.from('{')), /not JSON/);
  });
});
