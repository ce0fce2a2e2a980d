import { emptyResult, pushCapped, settleOutcome, totalUsage } from './base';
import { LineSplitter, classifyMessage, num, obj, optNum, parseJsonLine, str } from './lines';
import { PLACEHOLDER_KEY } from './placeholder';
import type { PriceTable } from '../config/prices';
import type { AgentAdapter, AgentExit, AgentOutcome, AgentParser, AgentResult, AgentRunSpec, Invocation, ModelUsage } from './types';

/**
 * Aider: `aider --message-file … --yes-always --no-auto-commits …`. It prints a rounded
 * `Tokens: … Cost: …` report per message (possibly wrapped onto two lines) and, with
 * `--analytics-log`, exact `message_send` events; it exits 0 even when the API call failed, so
 * errors are read from its output.
 */
export const aiderAdapter: AgentAdapter = {
  name: 'aider',
  defaultModel: 'anthropic/claude-sonnet-4-5',

  invocation(spec: AgentRunSpec): Invocation {
    const analytics = `${spec.outDir ?? spec.homeDir}/aider-analytics.jsonl`;
    return {
      argv: [
        'aider', '--message-file', spec.promptFile, '--yes-always', '--no-auto-commits', '--no-analytics',
        '--analytics-log', analytics, '--no-pretty', '--no-stream', '--no-check-update', '--no-show-release-notes',
        '--model', spec.model ?? this.defaultModel!, ...(spec.extraArgs ?? []),
      ],
      env: {
        HOME: spec.homeDir,
        // litellm reads these; every provider is pointed at the gateway with a placeholder key.
        ANTHROPIC_API_BASE: `${spec.gatewayUrl}/anthropic`,
        ANTHROPIC_BASE_URL: `${spec.gatewayUrl}/anthropic`,
        ANTHROPIC_API_KEY: PLACEHOLDER_KEY,
        OPENAI_API_BASE: `${spec.gatewayUrl}/openai/v1`,
        OPENAI_BASE_URL: `${spec.gatewayUrl}/openai/v1`,
        OPENAI_API_KEY: PLACEHOLDER_KEY,
        GEMINI_API_BASE: `${spec.gatewayUrl}/gemini`,
        GEMINI_API_KEY: PLACEHOLDER_KEY,
      },
      sideLogs: [analytics],
    };
  },

  parser(_prices: PriceTable, model?: string): AgentParser {
    return new AiderParser(model ?? aiderAdapter.defaultModel!);
  },
};

/** `12k` → 12000, `8.4k` → 8400, `1.2M` → 1200000, `512` → 512. */
export function parseCount(text: string): number {
  const m = /^([\d.,]+)\s*([kKmM]?)$/.exec(text.trim());
  if (!m) return 0;
  const n = Number(m[1].replace(/,/g, ''));
  const mult = m[2].toLowerCase() === 'k' ? 1e3 : m[2].toLowerCase() === 'm' ? 1e6 : 1;
  return Number.isFinite(n) ? Math.round(n * mult) : 0;
}

const ERROR_LINE = /(litellm\.\w*Error|AuthenticationError|RateLimitError|APIConnectionError|APIError|BadRequestError|NotFoundError|ServiceUnavailableError|The API provider has rate limited you|Retrying in [\d.]+ seconds)/;

class AiderParser implements AgentParser {
  private readonly r: AgentResult = emptyResult('aider');
  private readonly lines = new LineSplitter((l) => this.line(l));
  private pendingTokens: string | undefined;
  private textUsage: ModelUsage = { inputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, outputTokens: 0 };
  private textSessionCost: number | undefined;
  private textMessages = 0;
  private events: Record<string, ModelUsage> = {};
  private eventCost: number | undefined;
  private eventCount = 0;
  private errorHint: AgentOutcome | undefined;

  constructor(model: string) {
    this.r.model = model;
  }

  push(chunk: string): void {
    this.lines.push(chunk);
  }

  private line(raw: string): void {
    const text = raw.trim();
    const json = parseJsonLine(text);
    if (json) return this.event(json);
    if (this.pendingTokens !== undefined) {
      const pending = this.pendingTokens;
      this.pendingTokens = undefined;
      if (/^Cost:/.test(text)) return this.report(`${pending} ${text}`);
      this.report(pending);
    }
    if (/^Tokens:/.test(text)) {
      if (/Cost:/.test(text)) return this.report(text);
      // Wrapped onto two lines, or unpriced (no Cost part): decide on the next line.
      this.pendingTokens = text;
      return;
    }
    const err = ERROR_LINE.exec(text);
    if (err) {
      pushCapped(this.r.errors, text);
      this.errorHint = classifyMessage(text) ?? this.errorHint ?? 'agent_error';
    }
  }

  /** `Tokens: 12k sent, 8.4k cache hit, 512 received. Cost: $0.05 message, $0.12 session.` */
  private report(text: string): void {
    const sent = /([\d.,]+[kKmM]?) sent/.exec(text);
    const hit = /([\d.,]+[kKmM]?) cache hit/.exec(text);
    const write = /([\d.,]+[kKmM]?) cache write/.exec(text);
    const received = /([\d.,]+[kKmM]?) received/.exec(text);
    const session = /\$([\d.,]+) session/.exec(text);
    const s = sent ? parseCount(sent[1]) : 0;
    const h = Math.min(s, hit ? parseCount(hit[1]) : 0);
    this.textUsage = {
      inputTokens: this.textUsage.inputTokens + s - h,
      cachedInputTokens: this.textUsage.cachedInputTokens + h,
      cacheWriteTokens: this.textUsage.cacheWriteTokens + (write ? parseCount(write[1]) : 0),
      outputTokens: this.textUsage.outputTokens + (received ? parseCount(received[1]) : 0),
    };
    if (session) this.textSessionCost = Number(session[1].replace(/,/g, ''));
    this.textMessages++;
  }

  /** An analytics-log event: `message_send` carries exact tokens and the running cost. */
  private event(e: Record<string, unknown>): void {
    if (e.event !== 'message_send') return;
    const p = obj(e.properties) ?? e;
    const model = str(p.main_model) ?? this.r.model ?? 'unknown';
    const prev = this.events[model] ?? { inputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, outputTokens: 0 };
    this.events[model] = { ...prev, inputTokens: prev.inputTokens + num(p.prompt_tokens), outputTokens: prev.outputTokens + num(p.completion_tokens) };
    this.eventCost = optNum(p.total_cost) ?? this.eventCost;
    this.eventCount++;
  }

  finish(exit: AgentExit): AgentResult {
    this.lines.end();
    if (this.pendingTokens !== undefined) {
      this.report(this.pendingTokens);
      this.pendingTokens = undefined;
    }
    // Exact analytics events win over the rounded console report.
    if (this.eventCount > 0) {
      this.r.perModel = this.events;
      this.r.usage = totalUsage(this.events);
      if (this.eventCost !== undefined) Object.assign(this.r, { costUsd: this.eventCost, costSource: 'reported' });
    } else if (this.textMessages > 0) {
      this.r.perModel = { [this.r.model!]: { ...this.textUsage, costUsd: this.textSessionCost } };
      this.r.usage = { ...this.textUsage };
      if (this.textSessionCost !== undefined) Object.assign(this.r, { costUsd: this.textSessionCost, costSource: 'reported' });
      else this.r.warnings.push('aider printed tokens but no cost (unpriced model): cost comes from the gateway');
    }
    this.r.numTurns = Math.max(this.eventCount, this.textMessages);
    const worked = this.eventCount + this.textMessages > 0;
    // Aider exits 0 after a failed API call: an error with no completed message is a failure.
    const fromOutput: AgentOutcome | undefined = this.errorHint && !worked ? this.errorHint : worked && exit.code === 0 ? 'success' : undefined;
    this.r.outcome = settleOutcome(fromOutput, exit, this.errorHint);
    if (this.r.outcome === 'success' && !worked) this.r.outcome = 'unknown';
    return this.r;
  }
}
