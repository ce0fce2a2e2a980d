import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ZERO_USAGE, type TokenUsage } from '../config/prices';

/** The model APIs the gateway forwards to. */
export type Provider = 'anthropic' | 'openai' | 'gemini';
export const PROVIDERS: readonly Provider[] = ['anthropic', 'openai', 'gemini'];

/** What a metered response told us. */
export interface MeteredUsage {
  model?: string;
  usage: TokenUsage;
  /** False when no usage figure was found in the response (the request is still recorded). */
  found: boolean;
}

/** Only this much of a non-streaming body is kept for reading usage; the client still gets all. */
const MAX_JSON_BYTES = 16 * 1024 * 1024;

type Json = Record<string, unknown>;
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** Anthropic: input_tokens already excludes cache reads and writes. */
function anthropicUsage(u: Json): TokenUsage {
  return {
    inputTokens: num(u.input_tokens),
    cachedInputTokens: num(u.cache_read_input_tokens),
    cacheWriteTokens: num(u.cache_creation_input_tokens),
    outputTokens: num(u.output_tokens),
  };
}

/** OpenAI Chat Completions and Responses: cached tokens are a subset of the prompt tokens. */
function openaiUsage(u: Json): TokenUsage {
  const prompt = num(u.prompt_tokens ?? u.input_tokens);
  const details = obj(u.prompt_tokens_details) ?? obj(u.input_tokens_details);
  const cached = Math.min(prompt, num(details?.cached_tokens));
  return { inputTokens: prompt - cached, cachedInputTokens: cached, cacheWriteTokens: 0, outputTokens: num(u.completion_tokens ?? u.output_tokens) };
}

/** Gemini: promptTokenCount includes cached content; thinking tokens bill as output. */
function geminiUsage(u: Json): TokenUsage {
  const prompt = num(u.promptTokenCount) + num(u.toolUsePromptTokenCount);
  const cached = Math.min(prompt, num(u.cachedContentTokenCount));
  return { inputTokens: prompt - cached, cachedInputTokens: cached, cacheWriteTokens: 0, outputTokens: num(u.candidatesTokenCount) + num(u.thoughtsTokenCount) };
}

/**
 * Reads token usage from a response as it streams past, without holding the stream back.
 * `push` every chunk the client is sent, then `finish()`. SSE bodies are parsed event by event
 * (constant memory); JSON bodies are kept up to 16 MiB and parsed at the end.
 */
export class UsageMeter {
  private readonly sse: boolean;
  private readonly parser;
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  private overflow = false;
  private model: string | undefined;
  private usage: TokenUsage = { ...ZERO_USAGE };
  private found = false;
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly provider: Provider,
    contentType: string | undefined,
    /** The model named by the request (Gemini names it only in the URL). */
    requestModel?: string,
  ) {
    this.sse = /text\/event-stream/i.test(contentType ?? '');
    this.model = requestModel;
    this.parser = createParser({ onEvent: (e) => this.onEvent(e) });
  }

  push(chunk: Buffer): void {
    if (this.sse) {
      this.parser.feed(this.decoder.decode(chunk, { stream: true }));
      return;
    }
    if (this.overflow) return;
    this.bytes += chunk.length;
    if (this.bytes > MAX_JSON_BYTES) {
      this.overflow = true;
      this.chunks.length = 0;
      return;
    }
    this.chunks.push(chunk);
  }

  finish(): MeteredUsage {
    if (this.sse) {
      this.parser.feed(this.decoder.decode() + '\n\n');
    } else if (!this.overflow && this.chunks.length) {
      try {
        const body = obj(JSON.parse(Buffer.concat(this.chunks).toString('utf8')));
        if (body) this.readBody(body);
      } catch {
        // Not JSON (an HTML error page, a truncated body): nothing to meter.
      }
    }
    return { model: this.model, usage: this.usage, found: this.found };
  }

  private onEvent(e: EventSourceMessage): void {
    if (e.data === '[DONE]') return;
    let data: Json | undefined;
    try {
      data = obj(JSON.parse(e.data));
    } catch {
      return;
    }
    if (!data) return;
    switch (this.provider) {
      case 'anthropic':
        return this.anthropicEvent(data);
      case 'openai': {
        // Responses API: the final `response.completed` carries the whole response.
        const response = obj(data.response);
        if (response && (data.type === 'response.completed' || data.type === 'response.incomplete' || data.type === 'response.failed')) {
          return this.readBody(response);
        }
        // Chat Completions: the last chunk carries usage (the gateway asks for it).
        return this.readBody(data);
      }
      case 'gemini':
        // Every chunk repeats the running usageMetadata; the last one wins.
        return this.readBody(data);
    }
  }

  /** message_start holds input (and cache) tokens; message_delta the running output count. */
  private anthropicEvent(data: Json): void {
    if (data.type === 'message_start') {
      const message = obj(data.message);
      this.model = str(message?.model) ?? this.model;
      const u = obj(message?.usage);
      if (u) {
        this.usage = anthropicUsage(u);
        this.found = true;
      }
    } else if (data.type === 'message_delta') {
      const u = obj(data.usage);
      if (!u) return;
      this.found = true;
      this.usage = {
        inputTokens: u.input_tokens === undefined ? this.usage.inputTokens : num(u.input_tokens),
        cachedInputTokens: u.cache_read_input_tokens === undefined ? this.usage.cachedInputTokens : num(u.cache_read_input_tokens),
        cacheWriteTokens: u.cache_creation_input_tokens === undefined ? this.usage.cacheWriteTokens : num(u.cache_creation_input_tokens),
        outputTokens: num(u.output_tokens),
      };
    }
  }

  /** A whole (non-streamed) response body, or one self-contained streamed chunk. */
  private readBody(body: Json): void {
    this.model = str(body.model) ?? str(body.modelVersion) ?? this.model;
    let u: Json | undefined;
    switch (this.provider) {
      case 'anthropic':
        if ((u = obj(body.usage))) this.usage = anthropicUsage(u);
        break;
      case 'openai':
        if ((u = obj(body.usage))) this.usage = openaiUsage(u);
        break;
      case 'gemini':
        if ((u = obj(body.usageMetadata))) this.usage = geminiUsage(u);
        break;
    }
    if (u) this.found = true;
  }
}
