import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { startShim } from '../../../src/worker/shim';

/** The in-container shim, on the host: 127.0.0.1 TCP in, the gateway's Unix socket out. */
describe('gateway shim (worker runtime)', () => {
  let dir: string;
  let server: net.Server;
  let socketPath: string;
  const seen: Buffer[] = [];

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-shim-'));
    socketPath = path.join(dir, 'gw.sock');
    seen.length = 0;
    // An echo server that answers each chunk right away, and says "bye" when the client half-closes.
    server = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => undefined);
      s.on('data', (d) => {
        seen.push(d);
        s.write(Buffer.concat([Buffer.from('echo:'), d]));
      });
      s.on('end', () => s.end('bye'));
    });
    await new Promise<void>((r) => server.listen(socketPath, r));
  });
  afterEach(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 only and pipes bytes both ways, chunk by chunk, through half-close', async () => {
    const shim = await startShim(socketPath);
    try {
      assert.match(shim.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const c = net.connect(shim.port, '127.0.0.1');
      const got: string[] = [];
      c.on('data', (d) => got.push(d.toString()));
      await new Promise((r) => c.once('connect', r));
      c.write('one');
      // The first answer arrives while the client is still open (nothing waits for the end).
      await new Promise((r) => c.once('data', r));
      assert.equal(got.join(''), 'echo:one');
      c.end('two');
      await new Promise((r) => c.once('close', r));
      assert.equal(got.join(''), 'echo:oneecho:twobye');
      assert.equal(Buffer.concat(seen).toString(), 'onetwo');
    } finally {
      await shim.close();
    }
  });

  it('a dead gateway socket drops the connection instead of hanging it', async () => {
    const shim = await startShim(path.join(dir, 'missing.sock'));
    try {
      const c = net.connect(shim.port, '127.0.0.1');
      c.on('error', () => undefined);
      await new Promise((r) => c.once('close', r));
    } finally {
      await shim.close();
    }
  });
});
