import { emptyResult, computeCost, pushCapped, settleOutcome, totalUsage } from './base';
import { classifyMessage, num, obj, str } from './lines';
import { PLACEHOLDER_KEY } from './placeholder';
import type { PriceTable } from '../config/prices';
import type { AgentAdapter, AgentExit, AgentOutcome, AgentParser, AgentResult, AgentRunSpec, Invocation, ModelUsage } from './types';

/** Gemini CLI's documented exit codes. */
const EXIT_CODES: Record<number, AgentOutcome> = { 41: 'auth_error', 42: 'agent_error', 52: 'agent_error', 53: 'max_turns', 54: 'agent_error', 130: 'killed' };

/**
 * Gemini CLI: `gemini -p … -o json -m M --approval-mode yolo`, the prompt on stdin (Gemini
 * appends `-p` to it). Pointed at the gateway with GOOGLE_GEMINI_BASE_URL; the auth type is pinned
 * to `gemini-api-key` in its settings (otherwise a base URL selects a "gateway" auth it rejects
 * headless). Output is one JSON document at the end; cost = tokens × price table.
 */
export const geminiAdapter: AgentAdapter = {
  name: 'gemini',
  provider: 'gemini',
  defaultModel: 'gemini-2.5-pro',

  invocation(spec: AgentRunSpec): Invocation {
    const settings = {
      security: { auth: { selectedType: 'gemini-api-key' } },
      privacy: { usageStatisticsEnabled: false },
      general: { disableAutoUpdate: true, disableUpdateNag: true },
      ...(spec.maxTurns ? { model: { maxSessionTurns: spec.maxTurns } } : {}),
    };
    return {
      argv: ['gemini', '-p', 'Carry out the task described above.', '-o', 'json', '-m', spec.model ?? this.defaultModel!, '--approval-mode', 'yolo', ...(spec.extraArgs ?? [])],
      stdinFile: spec.promptFile,
      env: {
        HOME: spec.homeDir,
        GOOGLE_GEMINI_BASE_URL: `${spec.gatewayUrl}/gemini`,
        GEMINI_API_KEY: PLACEHOLDER_KEY,
        // The staging copy is the folder it was started for; without this yolo is downgraded.
        GEMINI_CLI_TRUST_WORKSPACE: 'true',
      },
      files: [{ path: `${spec.homeDir}/.gemini/settings.json`, content: JSON.stringify(settings, null, 2) }],
    };
  },

  parser(prices: PriceTable, model?: string): AgentParser {
    return new GeminiParser(prices, model ?? geminiAdapter.defaultModel!);
  },
};

/** The last JSON document in `text` that starts at a line start (banners and stack traces tolerated). */
function jsonDocument(text: string): Record<string, unknown> | undefined {
  const end = text.lastIndexOf('}');
  if (end < 0) return undefined;
  const starts = [...text.matchAll(/^\{/gm)].map((m) => m.index).reverse();
  for (const start of starts) {
    if (start > end) continue;
    try {
      return obj(JSON.parse(text.slice(start, end + 1)));
    } catch {
      /* try an earlier start */
    }
  }
  return undefined;
}

class GeminiParser implements AgentParser {
  private readonly r: AgentResult = emptyResult('gemini');
  private text = '';
  private static readonly MAX = 8 * 1024 * 1024;

  constructor(private readonly prices: PriceTable, model: string) {
    this.r.model = model;
  }

  push(chunk: string): void {
    if (this.text.length < GeminiParser.MAX) this.text += chunk;
  }

  finish(exit: AgentExit): AgentResult {
    // Failures print their JSON document on stderr (recorded: a 401 exits with status 401 & 0xff).
    const doc = jsonDocument(this.text) ?? jsonDocument(exit.stderr ?? '');
    let fromOutput: AgentOutcome | undefined;
    if (!doc) {
      if (this.text.trim()) this.r.warnings.push('output was not a complete JSON document (cut off?)');
    } else {
      this.r.finalText = str(doc.response);
      const perModel: Record<string, ModelUsage> = {};
      for (const [model, v] of Object.entries(obj(obj(doc.stats)?.models) ?? {})) {
        const t = obj(obj(v)?.tokens);
        if (!t) continue;
        const prompt = num(t.prompt ?? t.input);
        const cached = Math.min(prompt, num(t.cached));
        perModel[model] = { inputTokens: prompt - cached, cachedInputTokens: cached, cacheWriteTokens: 0, outputTokens: num(t.candidates) + num(t.thoughts) };
      }
      this.r.perModel = perModel;
      this.r.usage = totalUsage(perModel);
      if (Object.keys(perModel).length) this.r.model = Object.keys(perModel)[0];
      const err = obj(doc.error);
      if (err) {
        const message = str(err.message) ?? 'error';
        pushCapped(this.r.errors, message);
        const code = typeof err.code === 'number' ? err.code : undefined;
        const http = code === 401 || code === 403 ? 'auth_error' : code === 429 ? 'rate_limited' : undefined;
        fromOutput = (code !== undefined ? EXIT_CODES[code] : undefined) ?? http ?? classifyMessage(message) ?? 'agent_error';
      } else if (exit.code === 0) {
        fromOutput = 'success';
      }
      Object.assign(this.r, computeCost(perModel, this.prices, this.r.warnings));
    }
    if (!fromOutput && exit.code !== null && EXIT_CODES[exit.code]) fromOutput = EXIT_CODES[exit.code];
    if (exit.code !== 0 && exit.code !== null && exit.stderr?.trim()) pushCapped(this.r.errors, exit.stderr.trim().split('\n').slice(-5).join('\n'));
    this.r.outcome = settleOutcome(fromOutput, exit, classifyMessage(exit.stderr ?? ''));
    if (this.r.outcome === 'success' && !doc) this.r.outcome = 'unknown';
    return this.r;
  }
}
