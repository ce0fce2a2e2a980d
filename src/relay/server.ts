import * as http from 'node:http';
import { RELAY_LIMITS, RELAY_ROUTES } from '../core/contracts/relay-protocol';
import { bearerToken } from './headers';
import { jobDir, tokenMatches } from './jobs';
import { proxyModel } from './proxy';
import { discard, reply, type RequestNote } from './reply';
import { receiveResult, serveBundle } from './transfer';

// The Controller relay (issue 19): one HTTP server on the run's internal overlay network serving
// `RELAY_ROUTES` over `<dir>/jobs/<jobId>/`. Every job route needs that job's bearer token.

export interface RelayOptions {
  /** The run folder (`$RELAY_DIR`). */
  dir: string;
  /** One line per request (JSON-able; never holds a token). Default: stdout. */
  log?: (line: Record<string, unknown>) => void;
  /** Model request body cap (bytes); default RELAY_LIMITS.modelRequestBytes. */
  maxModelBody?: number;
}

const defaultLog = (line: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

/** The relay's HTTP server, not yet listening. */
export function createRelayServer(opts: RelayOptions): http.Server {
  const log = opts.log ?? defaultLog;
  const server = http.createServer(
    { requestTimeout: 30 * 60_000, headersTimeout: RELAY_LIMITS.headersTimeoutMs, keepAliveTimeout: 5_000 },
    (req, res) => {
      const started = Date.now();
      const note: RequestNote = { route: 'other' };
      res.on('close', () => {
        const line: Record<string, unknown> = { time: new Date().toISOString(), method: req.method, route: note.route, status: res.statusCode };
        if (note.job !== undefined) line.job = note.job;
        if (note.bytes !== undefined) line.bytes = note.bytes;
        if (note.reason !== undefined) line.reason = note.reason;
        if (!res.writableFinished) line.aborted = true;
        line.ms = Date.now() - started;
        log(line);
      });
      handle(opts, req, res, note).catch((err: unknown) => {
        note.reason = `error: ${err instanceof Error ? err.message : String(err)}`;
        reply(res, 500, 'relay error');
        discard(req);
      });
    },
  );
  server.maxConnections = RELAY_LIMITS.maxConnections;
  server.setTimeout(RELAY_LIMITS.idleTimeoutMs, (socket) => socket.destroy());
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    socket.destroy();
  });
  return server;
}

const JOB_PATH = /^\/jobs\/([^/]*)(\/.*)?$/;

async function handle(opts: RelayOptions, req: http.IncomingMessage, res: http.ServerResponse, note: RequestNote): Promise<void> {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://relay');
  } catch {
    return refuse(req, res, 400, 'bad request target');
  }
  if (url.pathname === RELAY_ROUTES.health) {
    note.route = 'health';
    return req.method === 'GET' || req.method === 'HEAD' ? reply(res, 200, 'ok') : refuse(req, res, 405, 'method not allowed');
  }
  const m = JOB_PATH.exec(url.pathname);
  const dir = m ? jobDir(opts.dir, m[1]) : undefined;
  if (!m || dir === undefined) return refuse(req, res, 404, 'not found');
  const id = m[1];
  const rest = m[2] ?? '';
  note.job = id;
  note.route = routeOf(rest);
  const token = bearerToken(req.headers.authorization);
  if (token === undefined || !(await tokenMatches(dir, token))) {
    note.reason = token === undefined ? 'no token' : 'wrong token';
    return refuse(req, res, 401, 'unauthorized');
  }
  switch (note.route) {
    case 'bundle':
      return req.method === 'GET' ? serveBundle(dir, res, note) : refuse(req, res, 405, 'method not allowed');
    case 'result':
      return req.method === 'PUT' ? receiveResult(dir, req, res, note) : refuse(req, res, 405, 'method not allowed');
    case 'model':
      return proxyModel({ dir, target: (rest.slice('/model'.length) || '/') + url.search, maxBody: opts.maxModelBody }, req, res, note);
    default:
      return refuse(req, res, 404, 'not found');
  }
}

function routeOf(rest: string): RequestNote['route'] {
  if (rest === '/bundle') return 'bundle';
  if (rest === '/result') return 'result';
  if (rest === '/model' || rest.startsWith('/model/')) return 'model';
  return 'other';
}

function refuse(req: http.IncomingMessage, res: http.ServerResponse, status: number, message: string): void {
  reply(res, status, message);
  discard(req);
}
