import * as net from 'node:net';

/**
 * The gateway shim: listens on the container's own 127.0.0.1 (the container has no other network)
 * and pipes every TCP connection, byte for byte, to the host gateway's Unix socket. It parses
 * nothing, so streaming passes straight through and the host gateway stays the one policy point.
 */
export interface Shim {
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startShim(socketPath: string, port = 0): Promise<Shim> {
  const conns = new Set<net.Socket>();
  // Half-open both ways: a client that finishes sending still gets the whole answer.
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ path: socketPath, allowHalfOpen: true });
    conns.add(client);
    conns.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      conns.delete(client);
      conns.delete(upstream);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as net.AddressInfo).port;
  return {
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.destroy();
        server.close(() => resolve());
      }),
  };
}
