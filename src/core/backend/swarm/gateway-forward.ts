/**
 * A swarm Worker reaches the cycle's metered model gateway only through the relay: the relay
 * forwards `/jobs/<id>/model/*` to the Unix socket `jobs/<id>/gateway.sock` in the run folder, and
 * this forwarder — on the Controller, in the Controller's process — joins each connection on that
 * socket to the cycle's own gateway socket, byte for byte. The keys stay in the gateway; its
 * meter and budget cap see every call. The socket is owned by the relay's user, mode 0600.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';

/** Connections at once (the relay caps its own too). */
export const MAX_FORWARDED_CONNECTIONS = 64;

export interface GatewayForward {
  /** Stop listening, cut the connections, delete the socket file. Idempotent. */
  close(): Promise<void>;
}

/** Listen on `listenPath` and forward every connection to `targetPath`. */
export async function forwardGateway(listenPath: string, targetPath: string, owner?: { uid: number; gid: number }): Promise<GatewayForward> {
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (open.size >= MAX_FORWARDED_CONNECTIONS) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPath);
    open.add(client);
    open.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  fs.rmSync(listenPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  fs.chmodSync(listenPath, 0o600);
  if (owner && process.getuid?.() === 0) fs.chownSync(listenPath, owner.uid, owner.gid);
  let closed = false;
  return {
    async close() {
      if (closed) return;
      closed = true;
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(listenPath, { force: true });
    },
  };
}
