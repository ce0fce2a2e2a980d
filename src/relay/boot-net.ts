import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { RELAY_ROUTES } from '../core/contracts/relay-protocol';
import { BootError } from './boot-manifest';
import { forwardHeaders } from './headers';

// The boot script's side of the relay: plain node:http (the task's Node may be 18, no fetch).

/** The relay as this task reaches it. */
export interface RelayTarget {
  url: URL;
  jobId: string;
  token: string;
}

// No keep-alive: a pooled socket the relay closes as idle (keepAliveTimeout) just as a model call reuses it would fail
// that call; a connection per request on the overlay is cheap beside a model call.
const agent = new http.Agent({ keepAlive: false, maxSockets: 64 });

/** A request to one of the job's relay routes, with the bearer token. */
export function relayRequest(t: RelayTarget, method: string, route: string, headers: http.OutgoingHttpHeaders = {}): http.ClientRequest {
  const base = t.url.pathname.replace(/\/+$/, '');
  return http.request({
    agent,
    hostname: t.url.hostname,
    port: t.url.port || 80,
    method,
    path: `${base}${route}`,
    headers: { ...headers, authorization: `Bearer ${t.token}` },
  });
}

/** The response of `req` (ended by the caller); rejects on a connection error. */
export function response(req: http.ClientRequest, what: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', (err) => reject(new BootError(`${what}: ${err.message}`)));
  });
}

/** Throws BootError with the relay's status and a short body when `res` is not 2xx. */
export async function expectOk(res: http.IncomingMessage, what: string): Promise<void> {
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) return;
  let text = '';
  for await (const c of res) {
    if (text.length < 500) text += (c as Buffer).toString('utf8');
  }
  throw new BootError(`${what}: the relay answered ${status} ${text.slice(0, 500).trim()}`);
}

/** One Worker request on the local socket → the relay's model route of this job, streamed both ways. */
function forwardModel(t: RelayTarget, req: http.IncomingMessage, res: http.ServerResponse): void {
  const up = relayRequest(t, req.method ?? 'GET', `${RELAY_ROUTES.model(t.jobId)}${req.url ?? '/'}`, forwardHeaders(req.headers));
  up.on('response', (answer) => {
    res.writeHead(answer.statusCode ?? 502, forwardHeaders(answer.headers));
    res.flushHeaders();
    answer.pipe(res);
    answer.on('error', () => res.destroy());
  });
  up.on('error', (err) => {
    if (res.headersSent) return void res.destroy();
    const body = JSON.stringify({ error: { message: `factory-boot: the relay did not answer: ${err.message}`, type: 'relay_unreachable' } });
    res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  res.on('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  req.pipe(up);
}

/** A Unix socket at `socketPath` (owner-only) forwarding every HTTP request to the relay's model route. */
export async function openGatewaySocket(socketPath: string, t: RelayTarget): Promise<http.Server> {
  fs.mkdirSync(path.dirname(socketPath), { recursive: true });
  fs.rmSync(socketPath, { force: true });
  const server = http.createServer({ requestTimeout: 0 }, (req, res) => forwardModel(t, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new BootError(`cannot open the gateway socket ${socketPath}: ${err.message}`)));
    server.listen(socketPath, resolve);
  });
  fs.chmodSync(socketPath, 0o600);
  return server;
}
