import { EventEmitter, once } from 'node:events';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { addUsage, PriceTable, ZERO_USAGE, type TokenUsage } from '../config/prices';
import { atomicWrite } from '../util/atomic-write';
import { FactoryError, errorMessage } from '../util/errors';
import { nullLogger, type Logger } from '../util/log';
import { makeSocketDir, restrictSocket } from './gateway-socket';
import { RedactingStream, redact, redactingLogger } from './redact';
import { DEFAULT_UPSTREAMS, isMeterRequest, matchRoute, upstreamUrl, type ProviderKeys, type Route } from './routes';
import { UPSTREAM_IDLE_MS, errorBody, prepareBody, readBody, upstreamHeaders, withoutHopByHop } from './upstream';
import { PROVIDERS, UsageMeter, type Provider } from './usage';

/** One proxied (or refused) request, as recorded for evidence. Never holds headers or bodies. */
export interface GatewayRecord {
  time: string;
  provider?: Provider;
  method: string;
  path: string;
  status: number;
  model?: string;
  stream: boolean;
  usage: TokenUsage;
  costUsd: number;
  /** False when the model has no price (then priced at the table's ceiling, for the budget). */
  priced: boolean;
  durationMs: number;
  /** Why the gateway refused the request itself (never reached the upstream). */
  refused?: 'budget' | 'not_allowed' | 'no_key' | 'too_large';
  error?: string;
}

/** The totals `factory sandbox --json` prints as `gateway`. */
export interface GatewaySummary {
  requests: number;
  inputTokens: number;
  cachedInputTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Requests the gateway refused (budget, allow-list, missing key). */
  refused: number;
  budgetUsd: number;
  budgetExceeded: boolean;
}

export type { ProviderKeys } from './routes';

export { makeSocketDir };
export { keysFromEnv } from './routes';

/** What `GET /_factory/meter` answers: numbers only, for the in-container runtime's result.json. */
export interface GatewayMeter {
  requests: number;
  costUsd: number;
  budgetUsd: number;
  /** False when any call was on a model without a price (charged at the table's ceiling). */
  priced: boolean;
}

export interface GatewayOptions {
  /** The per-run Unix socket to listen on (its folder is mounted read-only into the container). */
  socketPath: string;
  /** Provider → key, from SecretStorage (extension) or the host environment (CLI). */
  keys: ProviderKeys;
  /** Provider → base URL overrides (`--upstream`, config `gateway.upstreams`). */
  upstreams?: Partial<Record<string, string>>;
  prices: PriceTable;
  /** The cycle's budget: once spent, further metered requests are refused. */
  budgetUsd: number;
  logger?: Logger;
  /** Called once, on the first request refused for budget: the owner stops the container. */
  onBudgetExceeded?: (summary: GatewaySummary) => void;
  /** Largest request body forwarded (bytes). */
  maxRequestBytes?: number;
  /**
   * The container user: the socket is made theirs with mode 0600, so no other local user can spend
   * the budget with the key. Without it the socket is 0666 (any local user could connect).
   */
  socketOwner?: { uid: number; gid: number };
  /** Called for every record the gateway keeps (live spend); an exception from it is logged, never fatal. */
  onRecord?: (r: GatewayRecord) => void;
}

/** Answers the container with a provider-shaped error and ends the exchange. */
type SendError = (provider: Provider | undefined, status: number, kind: string, message: string) => void;

function isProvider(p: string): p is Provider {
  return (PROVIDERS as readonly string[]).includes(p);
}

/**
 * The model gateway: the Worker's only way out. An HTTP server on a per-run Unix socket that
 * forwards allow-listed model API calls to their upstream with the real key injected, meters
 * usage from JSON and SSE responses as they stream through, prices it, and refuses further calls
 * once the cycle's budget is spent.
 */
export class ModelGateway {
  private readonly server: http.Server;
  private readonly log: Logger;
  private readonly upstreams: Record<Provider, string>;
  private readonly agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  private readonly recordsList: GatewayRecord[] = [];
  private readonly sockets = new Set<import('node:net').Socket>();
  private totals: TokenUsage = { ...ZERO_USAGE };
  private spent = 0;
  private refusedCount = 0;
  private budgetTripped = false;
  private readonly warnedUnpriced = new Set<string>();
  /** Metered calls forwarded and not yet recorded, and the dearest call so far (for admission). */
  private inFlight = 0;
  private maxCallCost = 0;
  private readonly settled = new EventEmitter();

  private constructor(private readonly opts: GatewayOptions) {
    this.log = redactingLogger(opts.logger ?? nullLogger, () => this.secrets());
    this.upstreams = { ...DEFAULT_UPSTREAMS };
    for (const [p, url] of Object.entries(opts.upstreams ?? {})) {
      if (!url) continue;
      if (!isProvider(p)) throw new FactoryError(`unknown gateway provider '${p}' (known: ${PROVIDERS.join(', ')})`, 'gateway_config');
      const u = new URL(url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new FactoryError(`upstream for ${p} must be http(s): ${url}`, 'gateway_config');
      this.upstreams[p] = url;
    }
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        // A bug here must not take the gateway (and every later call of the cycle) down.
        this.log.error(`gateway: ${errorMessage(err)}`);
        res.destroy();
      });
    });
    // A forward-proxy tunnel is never allowed: the gateway only speaks to its fixed upstreams.
    this.server.on('connect', (req: http.IncomingMessage, socket: import('node:stream').Duplex) => {
      this.refuse(undefined, req.method ?? 'CONNECT', req.url ?? '', 'not_allowed', 405, 'CONNECT is not allowed');
      socket.end('HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    // Every waiting call listens once; sub-agents can make many.
    this.settled.setMaxListeners(0);
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  /** Start listening on `opts.socketPath`, connectable by the container's user (see `socketOwner`). */
  static async start(opts: GatewayOptions): Promise<ModelGateway> {
    const gw = new ModelGateway(opts);
    await fs.promises.rm(opts.socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      gw.server.once('error', reject);
      gw.server.listen(opts.socketPath, () => {
        gw.server.off('error', reject);
        resolve();
      });
    });
    await restrictSocket(opts.socketPath, opts.socketOwner, gw.log);
    gw.log.info(`gateway listening on ${opts.socketPath} (budget $${opts.budgetUsd.toFixed(2)})`);
    return gw;
  }

  get socketPath(): string {
    return this.opts.socketPath;
  }

  /** Every request so far, oldest first (copies). */
  records(): GatewayRecord[] {
    return this.recordsList.map((r) => ({ ...r, usage: { ...r.usage } }));
  }

  summary(): GatewaySummary {
    return {
      requests: this.recordsList.length,
      inputTokens: this.totals.inputTokens + this.totals.cachedInputTokens + this.totals.cacheWriteTokens,
      cachedInputTokens: this.totals.cachedInputTokens,
      cacheWriteTokens: this.totals.cacheWriteTokens,
      outputTokens: this.totals.outputTokens,
      costUsd: this.spent,
      refused: this.refusedCount,
      budgetUsd: this.opts.budgetUsd,
      budgetExceeded: this.budgetTripped,
    };
  }

  /** Write the request records as JSON lines (evidence: `gateway.jsonl`), atomically. */
  async writeRecords(file: string): Promise<void> {
    const text = this.recordsList.map((r) => JSON.stringify(r)).join('\n');
    await atomicWrite(file, redact(text ? text + '\n' : '', this.secrets()));
  }

  /** Stop listening, cut open connections and remove the socket file. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.agents.http.destroy();
    this.agents.https.destroy();
    await closed;
    await fs.promises.rm(this.opts.socketPath, { force: true });
  }

  private secrets(): string[] {
    return Object.values(this.opts.keys).filter((k): k is string => !!k);
  }

  /**
   * Near the cap, calls go one at a time: while another in-flight call could already reach the
   * budget, wait for it. So parallel calls (sub-agents) overshoot the budget by at most one call
   * (from the first recorded call on: before any call has a known cost there is nothing to go by).
   */
  private async admit(): Promise<boolean> {
    while (this.inFlight > 0 && this.spent + (this.inFlight + 1) * this.maxCallCost >= this.opts.budgetUsd) {
      await once(this.settled, 'settled');
    }
    // Decide and take the slot in the same step: every waiter wakes on one event.
    if (this.spent >= this.opts.budgetUsd) return false;
    this.inFlight++;
    return true;
  }

  private record(r: GatewayRecord): void {
    this.recordsList.push(r);
    if (!r.refused) this.maxCallCost = Math.max(this.maxCallCost, r.costUsd);
    if (r.refused) this.refusedCount++;
    this.totals = addUsage(this.totals, r.usage);
    this.spent += r.costUsd;
    if (!this.opts.onRecord) return;
    try {
      this.opts.onRecord({ ...r, usage: { ...r.usage } });
    } catch (err) {
      this.log.warn(`gateway: onRecord failed: ${errorMessage(err)}`);
    }
  }

  /** The numbers `GET /_factory/meter` answers. */
  meter(): GatewayMeter {
    return { requests: this.recordsList.length, costUsd: this.spent, budgetUsd: this.opts.budgetUsd, priced: this.recordsList.every((r) => r.priced) };
  }

  /** The runtime's question, answered here once the calls in flight are recorded (≤ 5 s): never forwarded, metered or recorded. */
  private async answerMeter(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const deadline = AbortSignal.timeout(5_000);
    while (this.inFlight > 0 && !deadline.aborted) await once(this.settled, 'settled', { signal: deadline }).catch(() => undefined);
    res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify(this.meter()));
    req.resume();
  }

  private refuse(provider: Provider | undefined, method: string, url: string, refused: NonNullable<GatewayRecord['refused']>, status: number, error: string): void {
    this.record({
      time: new Date().toISOString(), provider, method, path: url.split('?')[0].slice(0, 200), status, stream: false,
      usage: { ...ZERO_USAGE }, costUsd: 0, priced: true, durationMs: 0, refused, error,
    });
    this.log.warn(`gateway refused ${method} ${url.split('?')[0].slice(0, 200)}: ${error}`);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const t0 = performance.now();
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    if (isMeterRequest(method, url, req.headers)) return this.answerMeter(req, res);
    const route = matchRoute(method, url);
    const send: SendError = (provider, status, kind, message) => {
      res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
      res.end(errorBody(provider, status, kind, `factory gateway: ${message}`));
      req.resume();
    };
    if (!route) {
      this.refuse(undefined, method, url, 'not_allowed', 403, 'not on the allow-list');
      return send(undefined, 403, 'forbidden', `${method} ${url.split('?')[0].slice(0, 200)} is not an allowed model API call`);
    }
    const key = this.opts.keys[route.provider];
    if (!key) {
      this.refuse(route.provider, method, url, 'no_key', 401, `no API key for ${route.provider}`);
      return send(route.provider, 401, 'authentication_error', `no API key is configured for ${route.provider} on the host`);
    }
    if (route.metered && !(await this.admit())) {
      const message = `the cycle budget of $${this.opts.budgetUsd.toFixed(2)} is spent ($${this.spent.toFixed(4)}); request refused`;
      this.refuse(route.provider, method, url, 'budget', 402, message);
      send(route.provider, 402, 'budget_exceeded', message);
      if (!this.budgetTripped) {
        this.budgetTripped = true;
        this.opts.onBudgetExceeded?.(this.summary());
      }
      return;
    }

    if (!route.metered) return this.forward(req, res, route, key, t0, send);
    try {
      await this.forward(req, res, route, key, t0, send);
    } finally {
      this.inFlight--;
      this.settled.emit('settled');
    }
  }

  /** Forward one admitted request to its upstream, streaming the answer back through the meter. */
  private async forward(req: http.IncomingMessage, res: http.ServerResponse, route: Route, key: string, t0: number, send: SendError): Promise<void> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    let body: Buffer;
    try {
      body = await readBody(req, this.opts.maxRequestBytes ?? 32 * 1024 * 1024);
    } catch {
      this.refuse(route.provider, method, url, 'too_large', 413, 'request body too large');
      return send(route.provider, 413, 'request_too_large', 'request body too large');
    }
    const { body: outBody, model: requestModel, stream } = prepareBody(route, body);
    const upstreamReq = this.openUpstream(req, res, route, key, outBody.length);
    const { status, meter, error } = await this.relay(upstreamReq, outBody, res, route, requestModel, send);

    const metered = meter?.finish();
    const usage = metered?.usage ?? { ...ZERO_USAGE };
    const model = metered?.model ?? requestModel;
    const { cost, priced } = this.price(model, usage);
    if (route.metered && metered && !metered.found && status < 400) {
      this.log.warn(`gateway: no usage found in the ${route.provider} response to ${route.upstreamPath.split('?')[0]}`);
    }
    this.record({
      time: new Date().toISOString(), provider: route.provider, method, path: route.upstreamPath.split('?')[0],
      status, model, stream, usage, costUsd: cost, priced, durationMs: Math.round((performance.now() - t0) * 10) / 10,
      ...(error ? { error: redact(error, this.secrets()) } : {}),
    });
  }

  /** The request to the upstream, with the host's key, cut when idle or when the container hangs up. */
  private openUpstream(req: http.IncomingMessage, res: http.ServerResponse, route: Route, key: string, length: number): http.ClientRequest {
    const target = upstreamUrl(this.upstreams[route.provider], route.upstreamPath);
    const lib = target.protocol === 'https:' ? https : http;
    const upstreamReq = lib.request(target, {
      method: req.method ?? 'GET',
      headers: upstreamHeaders(req.headers, route.provider, key, length),
      agent: target.protocol === 'https:' ? this.agents.https : this.agents.http,
    });
    // A silent upstream must not hold the Worker until its time cap: 10 minutes without a byte.
    upstreamReq.setTimeout(UPSTREAM_IDLE_MS, () => upstreamReq.destroy(new Error(`no data from the upstream for ${UPSTREAM_IDLE_MS / 1000} s`)));
    // The container hung up: stop paying for a response nobody reads.
    res.on('close', () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
    return upstreamReq;
  }

  /** Send the body, then stream the answer to the client through the usage meter and redaction. */
  private async relay(
    upstreamReq: http.ClientRequest,
    outBody: Buffer,
    res: http.ServerResponse,
    route: Route,
    requestModel: string | undefined,
    send: SendError,
  ): Promise<{ status: number; meter?: UsageMeter; error?: string }> {
    let status = 502;
    let meter: UsageMeter | undefined;
    try {
      const upstreamRes = await new Promise<http.IncomingMessage>((resolve, reject) => {
        upstreamReq.once('response', resolve);
        upstreamReq.once('error', reject);
        upstreamReq.end(outBody);
      });
      status = upstreamRes.statusCode ?? 502;
      res.writeHead(status, withoutHopByHop(upstreamRes.headers));
      res.flushHeaders();
      const m = new UsageMeter(route.provider, upstreamRes.headers['content-type'], route.urlModel ?? requestModel);
      meter = m;
      // Tap → redact → client, chunk by chunk: nothing waits for the whole response.
      const tap = new Transform({
        transform(chunk: Buffer, _e, done) {
          m.push(chunk);
          done(null, chunk);
        },
      });
      await pipeline(upstreamRes, tap, new RedactingStream(this.secrets()), res);
      return { status, meter };
    } catch (err) {
      const error = errorMessage(err);
      if (!res.headersSent) send(route.provider, 502, 'api_error', `upstream ${route.provider} unreachable: ${error}`);
      else res.destroy();
      return { status, ...(meter ? { meter } : {}), error };
    }
  }

  /** Price `usage`; an unknown model is priced at the table's ceiling so the budget still holds. */
  private price(model: string | undefined, usage: TokenUsage): { cost: number; priced: boolean } {
    const price = model ? this.opts.prices.lookup(model) : undefined;
    if (price) return { cost: PriceTable.cost(usage, price), priced: true };
    const tokens = usage.inputTokens + usage.cachedInputTokens + usage.cacheWriteTokens + usage.outputTokens;
    if (tokens > 0 && !this.warnedUnpriced.has(model ?? '')) {
      this.warnedUnpriced.add(model ?? '');
      this.log.warn(`gateway: model '${model ?? '?'}' has no price; charged at the table's highest rate (add it to .factory/config.json → prices)`);
    }
    return { cost: PriceTable.cost(usage, this.opts.prices.ceiling()), priced: false };
  }
}
