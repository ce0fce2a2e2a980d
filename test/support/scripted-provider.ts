/**
 * The scripted provider: the one stand-in the tests allow. A loopback HTTP server that plays the
 * model behind the real gateway, speaking the real wire formats — Anthropic Messages (JSON and SSE,
 * with tool_use), OpenAI Chat Completions and Responses (JSON and SSE, with function calls) and
 * Gemini generateContent / streamGenerateContent (with functionCall) — so real agent CLIs run
 * against it. It records every request (and the key it carried) and the usage it served.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ProviderApi = 'anthropic' | 'openai-chat' | 'openai-responses' | 'gemini';

export interface ServedUsage {
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
}

/** One scripted answer. */
export interface ScriptedTurn {
  text?: string;
  /** A tool call the model makes (Claude's `Write`, Codex's `shell`, Gemini's `write_file`, …). */
  toolCall?: { name: string; input: Record<string, unknown> };
  usage: ServedUsage;
  /** Answer with this HTTP error instead (e.g. 401, 429, 500). */
  errorStatus?: number;
  /** Override the model named in the answer. */
  model?: string;
}

export interface RecordedRequest {
  api: ProviderApi;
  method: string;
  path: string;
  /** The credential the request carried (x-api-key, Bearer, x-goog-api-key or ?key=). */
  key: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  stream: boolean;
  /** Whether the previous turn's tool result is in this request (the agent ran the tool). */
  hasToolResult: boolean;
}

export type Script = (req: RecordedRequest, index: number) => ScriptedTurn;

export interface ScriptedProviderOptions {
  script: Script;
  /** Requests carrying another key get a 401 in the provider's format. */
  expectedKey?: string;
  /** Milliseconds between streamed events (to observe pass-through). */
  eventDelayMs?: number;
  /**
   * Milliseconds every model request waits before it is answered (a model's think time: makes a
   * benchmark's work agent-bound, bench/parallel.bench.ts). Not applied to GET /models.
   */
  latencyMs?: number;
}

function apiOf(path: string): ProviderApi | undefined {
  if (/\/v1\/messages$/.test(path)) return 'anthropic';
  if (/\/chat\/completions$/.test(path)) return 'openai-chat';
  if (/\/responses$/.test(path)) return 'openai-responses';
  if (/\/models\/[^/:]+:(stream)?[gG]enerateContent$/.test(path)) return 'gemini';
  return undefined;
}

function keyOf(req: http.IncomingMessage, url: URL): string | undefined {
  const h = req.headers;
  const bearer = typeof h.authorization === 'string' ? h.authorization.replace(/^Bearer\s+/i, '') : undefined;
  return (h['x-api-key'] as string | undefined) ?? (h['x-goog-api-key'] as string | undefined) ?? bearer ?? url.searchParams.get('key') ?? undefined;
}

/** True when the conversation's last message returns a tool result to the model. */
function detectToolResult(api: ProviderApi, body: Record<string, unknown>): boolean {
  const text = JSON.stringify(
    api === 'anthropic' || api === 'openai-chat'
      ? (body.messages as unknown[] | undefined)?.slice(-1)
      : api === 'openai-responses'
        ? (body.input as unknown[] | undefined)?.slice(-3)
        : (body.contents as unknown[] | undefined)?.slice(-1),
  ) ?? '';
  return /tool_result|"role":"tool"|function_call_output|custom_tool_call_output|functionResponse/.test(text);
}

let seq = 0;
const id = (p: string) => `${p}_${Date.now().toString(36)}${(seq++).toString(36)}`;

export class ScriptedProvider {
  readonly requests: RecordedRequest[] = [];
  /** Totals of the usage served in successful answers. */
  readonly served = { requests: 0, input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  private readonly server: http.Server;
  private port = 0;

  private constructor(private readonly opts: ScriptedProviderOptions) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  static async start(opts: ScriptedProviderOptions): Promise<ScriptedProvider> {
    const p = new ScriptedProvider(opts);
    await new Promise<void>((resolve) => p.server.listen(0, '127.0.0.1', resolve));
    p.port = (p.server.address() as AddressInfo).port;
    return p;
  }

  /** Base URL (`http://127.0.0.1:PORT`), used as every provider's upstream. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const api = apiOf(url.pathname);
    if (req.method === 'GET' && /\/models$/.test(url.pathname)) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ data: [], models: [] }));
    }
    if (!api || req.method !== 'POST') {
      res.writeHead(404, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ error: { message: `scripted provider: no route ${req.method} ${url.pathname}` } }));
    }
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      /* recorded as empty */
    }
    const stream = api === 'gemini' ? url.pathname.includes(':stream') : body.stream === true;
    const rec: RecordedRequest = {
      api, method: req.method, path: url.pathname + url.search, key: keyOf(req, url), headers: req.headers, body, stream,
      hasToolResult: detectToolResult(api, body),
    };
    this.requests.push(rec);
    const index = this.requests.length - 1;

    if (this.opts.expectedKey !== undefined && rec.key !== this.opts.expectedKey) {
      return this.error(res, api, 401, 'authentication_error', 'invalid x-api-key');
    }
    const turn = this.opts.script(rec, index);
    if (this.opts.latencyMs) await new Promise((r) => setTimeout(r, this.opts.latencyMs));
    if (turn.errorStatus) {
      return this.error(res, api, turn.errorStatus, turn.errorStatus === 429 ? 'rate_limit_error' : 'api_error', `scripted error ${turn.errorStatus}`);
    }
    const model = turn.model ?? (typeof body.model === 'string' ? body.model : /models\/([^/:]+)/.exec(url.pathname)?.[1] ?? 'scripted');
    this.served.requests++;
    this.served.input += turn.usage.input;
    this.served.output += turn.usage.output;
    this.served.cacheRead += turn.usage.cacheRead ?? 0;
    this.served.cacheWrite += turn.usage.cacheWrite ?? 0;
    const events = this.render(api, turn, model, stream, body);
    if (!stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify(events[0]));
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const e of events) {
      const line = typeof e === 'string' ? `data: ${e}\n\n` : api === 'anthropic' || api === 'openai-responses' ? `event: ${(e as { type: string }).type}\ndata: ${JSON.stringify(e)}\n\n` : `data: ${JSON.stringify(e)}\n\n`;
      res.write(line);
      if (this.opts.eventDelayMs) await new Promise((r) => setTimeout(r, this.opts.eventDelayMs));
    }
    res.end();
  }

  private error(res: http.ServerResponse, api: ProviderApi, status: number, type: string, message: string): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    const body =
      api === 'anthropic' ? { type: 'error', error: { type, message } } : api === 'gemini' ? { error: { code: status, message, status: type.toUpperCase() } } : { error: { message, type, code: type } };
    res.end(JSON.stringify(body));
  }

  /** The answer as one JSON body (`[body]`) or as the list of SSE events. */
  private render(api: ProviderApi, t: ScriptedTurn, model: string, stream: boolean, req: Record<string, unknown>): unknown[] {
    const u = t.usage;
    switch (api) {
      case 'anthropic': {
        const usage = { input_tokens: u.input, output_tokens: u.output, cache_read_input_tokens: u.cacheRead ?? 0, cache_creation_input_tokens: u.cacheWrite ?? 0 };
        const content: Record<string, unknown>[] = [];
        if (t.text) content.push({ type: 'text', text: t.text });
        if (t.toolCall) content.push({ type: 'tool_use', id: id('toolu'), name: t.toolCall.name, input: t.toolCall.input });
        const stop_reason = t.toolCall ? 'tool_use' : 'end_turn';
        const message = { id: id('msg'), type: 'message', role: 'assistant', model, content, stop_reason, stop_sequence: null, usage };
        if (!stream) return [message];
        const ev: unknown[] = [{ type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } }];
        content.forEach((c, i) => {
          if (c.type === 'text') {
            ev.push({ type: 'content_block_start', index: i, content_block: { type: 'text', text: '' } });
            ev.push({ type: 'content_block_delta', index: i, delta: { type: 'text_delta', text: c.text } });
          } else {
            ev.push({ type: 'content_block_start', index: i, content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} } });
            ev.push({ type: 'content_block_delta', index: i, delta: { type: 'input_json_delta', partial_json: JSON.stringify(c.input) } });
          }
          ev.push({ type: 'content_block_stop', index: i });
        });
        ev.push({ type: 'message_delta', delta: { stop_reason, stop_sequence: null }, usage: { output_tokens: u.output } });
        ev.push({ type: 'message_stop' });
        return ev;
      }
      case 'openai-chat': {
        const usage = { prompt_tokens: u.input + (u.cacheRead ?? 0), completion_tokens: u.output, total_tokens: u.input + (u.cacheRead ?? 0) + u.output, prompt_tokens_details: { cached_tokens: u.cacheRead ?? 0 } };
        const tool_calls = t.toolCall ? [{ id: id('call'), type: 'function', function: { name: t.toolCall.name, arguments: JSON.stringify(t.toolCall.input) } }] : undefined;
        const finish_reason = t.toolCall ? 'tool_calls' : 'stop';
        const base = { id: id('chatcmpl'), created: Math.floor(Date.now() / 1000), model };
        if (!stream) return [{ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: t.text ?? null, ...(tool_calls ? { tool_calls } : {}) }, finish_reason }], usage }];
        const chunk = (delta: unknown, fr: string | null) => ({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: fr }] });
        const ev: unknown[] = [chunk({ role: 'assistant', content: '' }, null)];
        if (t.text) ev.push(chunk({ content: t.text }, null));
        if (tool_calls) ev.push(chunk({ tool_calls: tool_calls.map((c, index) => ({ index, ...c })) }, null));
        ev.push(chunk({}, finish_reason));
        // Like the real API: usage only when the client asked for it.
        const so = req.stream_options as { include_usage?: boolean } | undefined;
        if (so?.include_usage) ev.push({ ...base, object: 'chat.completion.chunk', choices: [], usage });
        ev.push('[DONE]');
        return ev;
      }
      case 'openai-responses': {
        const usage = { input_tokens: u.input + (u.cacheRead ?? 0), input_tokens_details: { cached_tokens: u.cacheRead ?? 0 }, output_tokens: u.output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: u.input + (u.cacheRead ?? 0) + u.output };
        const output: Record<string, unknown>[] = [];
        if (t.text) output.push({ type: 'message', id: id('msg'), status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: t.text, annotations: [] }] });
        if (t.toolCall) output.push({ type: 'function_call', id: id('fc'), call_id: id('call'), name: t.toolCall.name, arguments: JSON.stringify(t.toolCall.input), status: 'completed' });
        const response = { id: id('resp'), object: 'response', created_at: Math.floor(Date.now() / 1000), status: 'completed', model, output, usage };
        if (!stream) return [response];
        const ev: unknown[] = [{ type: 'response.created', sequence_number: 0, response: { ...response, status: 'in_progress', output: [], usage: null } }];
        output.forEach((item, output_index) => {
          ev.push({ type: 'response.output_item.added', output_index, item: { ...item, status: 'in_progress' } });
          if (item.type === 'message') ev.push({ type: 'response.output_text.delta', output_index, content_index: 0, item_id: item.id, delta: t.text });
          ev.push({ type: 'response.output_item.done', output_index, item });
        });
        ev.push({ type: 'response.completed', response });
        return ev.map((e, i) => ({ ...(e as object), sequence_number: i }));
      }
      case 'gemini': {
        const usageMetadata = { promptTokenCount: u.input + (u.cacheRead ?? 0), cachedContentTokenCount: u.cacheRead ?? 0, candidatesTokenCount: u.output, totalTokenCount: u.input + (u.cacheRead ?? 0) + u.output };
        const parts: Record<string, unknown>[] = [];
        if (t.text) parts.push({ text: t.text });
        if (t.toolCall) parts.push({ functionCall: { name: t.toolCall.name, args: t.toolCall.input } });
        const answer = { candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }], usageMetadata, modelVersion: model, responseId: id('gem') };
        return [answer];
      }
    }
  }
}

/**
 * The usual two-turn script: the first request gets `toolCall`, any request that carries a tool
 * result gets a closing text. Every answer serves `usage`.
 */
export function toolThenDone(toolCall: ScriptedTurn['toolCall'], usage: ServedUsage, finalText = 'Done.'): Script {
  return (req) => (req.hasToolResult ? { text: finalText, usage } : { toolCall, usage });
}
