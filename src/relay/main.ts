import * as fs from 'node:fs';
import * as path from 'node:path';
import { RELAY_ENV, RELAY_MOUNT, RELAY_READY_FILE } from '../core/contracts/relay-protocol';
import { createRelayServer } from './server';

// dist/relay.js: `node /opt/factory/relay.js` in the relay service (issue 19). Env: RELAY_PORT
// (required; 0 picks a free port, for tests), RELAY_DIR (default /relay). Writes
// `$RELAY_DIR/relay.ready` once listening; SIGTERM closes and exits 0.

function fail(message: string): never {
  process.stderr.write(`factory-relay: ${message}\n`);
  process.exit(1);
}

/** tmp file then rename: a reader sees the whole file or none. */
function writeAtomic(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data, { mode: 0o644 });
  fs.renameSync(tmp, file);
}

function main(): void {
  const portText = process.env[RELAY_ENV.port] ?? '';
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65535) fail(`${RELAY_ENV.port} must be a port number, got ${JSON.stringify(portText)}`);
  const dir = process.env[RELAY_ENV.dir] || RELAY_MOUNT;
  if (!fs.existsSync(dir)) fail(`${RELAY_ENV.dir} ${dir} does not exist`);
  const ready = path.join(dir, RELAY_READY_FILE);
  fs.rmSync(ready, { force: true });
  const server = createRelayServer({ dir });
  server.on('error', (err) => fail(`cannot listen: ${err.message}`));
  server.listen(port, '0.0.0.0', () => {
    const addr = server.address();
    const actual = typeof addr === 'object' && addr !== null ? addr.port : port;
    writeAtomic(ready, JSON.stringify({ pid: process.pid, port: actual, time: new Date().toISOString() }));
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), listening: actual, dir })}\n`);
  });
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
