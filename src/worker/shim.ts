import * as http from 'node:http';
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

/** What the host gateway answers on `GET /_factory/meter` (core/gateway/routes.ts METER_PATH). */
export interface MeterReading {
  requests: number;
  costUsd: number;
  budgetUsd: number;
  /** False when a call was on a model without a price (charged at the price table's ceiling). */
  priced: boolean;
}

/** The gateway's own endpoint; the runtime may not import the gateway, so the path is spelled here too. */
export const METER_PATH = '/_factory/meter';

function asReading(v: unknown): MeterReading | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const n = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  if (!n(o.requests) || !n(o.costUsd) || !n(o.budgetUsd) || typeof o.priced !== 'boolean') return undefined;
  return { requests: o.requests as number, costUsd: o.costUsd as number, budgetUsd: o.budgetUsd as number, priced: o.priced };
}

/**
 * Ask the host gateway, through the shim (`baseUrl`), what this run has spent: the metered figure
 * result.json reports. `undefined` when it cannot be reached or answers anything else.
 */
export function readMeter(baseUrl: string, timeoutMs = 5_000): Promise<MeterReading | undefined> {
  return new Promise((resolve) => {
    const req = http.get(new URL(METER_PATH, baseUrl), { timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.length < 16 && chunks.push(c));
      res.on('error', () => resolve(undefined));
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve(undefined);
        try {
          resolve(asReading(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(undefined));
  });
}

/**
 * result.json's cost (spec §4-2): the gateway's metered figure for this run; the agent's own report
 * only when the meter could not be read. The note says which.
 */
export function costOf(meter: MeterReading | undefined, agentUsd: number | undefined): { usd: number; note: string } {
  if (meter) {
    const unpriced = meter.priced ? '' : ', a model without a price charged at the price table\'s highest rate';
    return { usd: meter.costUsd, note: `cost metered by the gateway ($${meter.costUsd.toFixed(4)} over ${meter.requests} request${meter.requests === 1 ? '' : 's'}${unpriced})` };
  }
  return { usd: agentUsd ?? 0, note: `cost as reported by the agent (the gateway meter was unreachable)` };
}
