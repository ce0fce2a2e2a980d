import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from '../util/log';

// The gateway's Unix socket on the host: its private folder and who may connect to it.

/** Only the container's user may connect: chown (when root) or own uid, then 0600; else 0666. */
export async function restrictSocket(socketPath: string, owner: { uid: number; gid: number } | undefined, log: Logger): Promise<void> {
  const me = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (owner && me === 0) {
    await fs.promises.chown(socketPath, owner.uid, owner.gid);
    await fs.promises.chmod(socketPath, 0o600);
  } else if (owner && me === owner.uid) {
    await fs.promises.chmod(socketPath, 0o600);
  } else {
    if (owner) log.warn(`gateway: cannot give the socket to uid ${owner.uid}; leaving it open to local users`);
    await fs.promises.chmod(socketPath, 0o666);
  }
}

/** A fresh private folder for one run's gateway socket: `<tmp>/factory-gw-XXXX/gateway.sock`. */
export async function makeSocketDir(): Promise<{ dir: string; socketPath: string }> {
  // Short base path: Unix socket paths are limited to ~107 bytes.
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'factory-gw-'));
  // Traversable (not listable) so the container's uid can reach the socket; nothing else lives here.
  await fs.promises.chmod(dir, 0o711);
  return { dir, socketPath: path.join(dir, 'gateway.sock') };
}
