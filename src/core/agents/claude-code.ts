import { LineSplitter, classifyMessage, num, obj, optNum, parseJsonLine, str } from './lines';
import { emptyResult, pushCapped, settleOutcome, totalUsage } from './base';
import type { PriceTable } from '../config/prices';
import type { AgentAdapter, AgentExit, AgentOutcome, AgentParser, AgentResult, AgentRunSpec, Invocation, ModelUsage } from './types';
import { PLACEHOLDER_KEY } from './placeholder';

/**
 * Claude Code, headless: `claude -p --output-format stream-json --verbose …` with the prompt on
 * stdin. One JSON object per line; the last is `type: result` with the subtype, cost and usage.
 * Classified on `subtype` and `is_error` together, never on the exit code alone.
 */
export const claudeCodeAdapter: AgentAdapter = {
  name: 'claude-code',
  provider: 'anthropic',
  defaultModel: 'claude-sonnet-4-5',

  invocation(spec: AgentRunSpec): Invocation {
    const argv = ['claude', '-p', '--output-format', 'stream-json', '--verbose', '--model', spec.model ?? this.defaultModel!];
    if (spec.maxTurns) argv.push('--max-turns', String(spec.maxTurns));
    if (spec.budgetUsd) argv.push('--max-budget-usd', String(spec.budgetUsd));
    // The container is the sandbox; inside it the agent may use its tools without asking.
    argv.push('--permission-mode', 'bypassPermissions', ...(spec.extraArgs ?? []));
    return {
      argv,
      stdinFile: spec.promptFile,
      env: {
        HOME: spec.homeDir,
        ANTHROPIC_BASE_URL: `${spec.gatewayUrl}/anthropic`,
        // A placeholder: the gateway replaces it with the real key on the host side.
        ANTHROPIC_API_KEY: PLACEHOLDER_KEY,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_TELEMETRY: '1',
        DISABLE_AUTOUPDATER: '1',
        DISABLE_ERROR_REPORTING: '1',
      },
    };
  },

  parser(_prices: PriceTable, model?: string): AgentParser {
    return new ClaudeCodeParser(model);
  },
};

const SUBTYPES: Record<string, AgentOutcome> = {
  error_max_turns: 'max_turns',
  error_max_budget_usd: 'budget_exceeded',
  error_during_execution: 'agent_error',
};

class ClaudeCodeParser implements AgentParser {
  private readonly r: AgentResult = emptyResult('claude-code');
  private final: Record<string, unknown> | undefined;
  private retryHint: AgentOutcome | undefined;
  private turns = 0;
  private skipped = 0;
  private readonly lines = new LineSplitter((l) => this.line(l));

  constructor(model?: string) {
    this.r.model = model;
  }

  push(chunk: string): void {
    this.lines.push(chunk);
  }

  private line(text: string): void {
    const o = parseJsonLine(text);
    if (!o) {
      if (text.trim()) this.skipped++;
      return;
    }
    switch (o.type) {
      case 'system':
        if (o.subtype === 'init') this.r.model = str(o.model) ?? this.r.model;
        if (o.subtype === 'api_retry') {
          // Claude Code retries 401/429/5xx itself; if it is killed while retrying, this says why.
          const status = optNum(o.error_status);
          const hint = status === 401 || status === 403 ? 'auth_error' : status === 429 ? 'rate_limited' : classifyMessage(str(o.error) ?? '');
          if (hint) this.retryHint = hint;
          pushCapped(this.r.errors, `api retry ${num(o.attempt)}: ${status ?? ''} ${str(o.error) ?? ''}`.trim());
        }
        break;
      case 'assistant':
        this.turns++;
        break;
      case 'result':
        this.final = o;
        break;
    }
  }

  finish(exit: AgentExit): AgentResult {
    const cut = this.lines.end();
    if (cut && !parseJsonLine(cut)) {
      // Counted as skipped by the splitter, but it is a cut line, reported as such.
      this.skipped--;
      this.r.warnings.push('the last output line was cut off');
    }
    if (this.skipped) this.r.warnings.push(`${this.skipped} non-JSON output line(s) skipped`);
    const f = this.final;
    let fromOutput: AgentOutcome | undefined;
    if (f) {
      const subtype = str(f.subtype) ?? '';
      const isError = f.is_error === true;
      const text = str(f.result) ?? '';
      this.r.finalText = text || undefined;
      this.r.numTurns = optNum(f.num_turns) ?? this.turns;
      if (subtype === 'success' && !isError) fromOutput = 'success';
      else if (SUBTYPES[subtype]) fromOutput = SUBTYPES[subtype];
      else {
        // `subtype: success` with `is_error: true` is how auth and API failures are reported.
        const status = optNum(f.api_error_status);
        fromOutput = (status === 401 || status === 403 ? 'auth_error' : status === 429 ? 'rate_limited' : undefined) ?? classifyMessage(text) ?? 'agent_error';
      }
      if (isError || subtype !== 'success') pushCapped(this.r.errors, `${subtype}${text ? `: ${text}` : ''}`);
      this.readUsage(f);
    } else {
      this.r.numTurns = this.turns;
      if (!exit.killed && !exit.timedOut) pushCapped(this.r.errors, 'no result line in the output');
      if (exit.stderr?.trim()) pushCapped(this.r.errors, exit.stderr.trim());
    }
    this.r.outcome = settleOutcome(fromOutput, exit, this.retryHint ?? classifyMessage(exit.stderr ?? ''));
    if (!f && this.r.outcome === 'success') this.r.outcome = 'unknown';
    return this.r;
  }

  private readUsage(f: Record<string, unknown>): void {
    const perModel: Record<string, ModelUsage> = {};
    const mu = obj(f.modelUsage);
    for (const [model, v] of Object.entries(mu ?? {})) {
      const m = obj(v);
      if (!m) continue;
      perModel[model] = {
        inputTokens: num(m.inputTokens),
        cachedInputTokens: num(m.cacheReadInputTokens),
        cacheWriteTokens: num(m.cacheCreationInputTokens),
        outputTokens: num(m.outputTokens),
        costUsd: optNum(m.costUSD),
      };
    }
    this.r.perModel = perModel;
    const u = obj(f.usage);
    this.r.usage = u
      ? { inputTokens: num(u.input_tokens), cachedInputTokens: num(u.cache_read_input_tokens), cacheWriteTokens: num(u.cache_creation_input_tokens), outputTokens: num(u.output_tokens) }
      : totalUsage(perModel);
    if (!this.r.model && Object.keys(perModel).length) this.r.model = Object.keys(perModel)[0];
    // Newer versions: total_cost_usd; older ones: total_cost or cost_usd.
    const cost = optNum(f.total_cost_usd) ?? optNum(f.total_cost) ?? optNum(f.cost_usd);
    if (cost !== undefined) {
      this.r.costUsd = cost;
      this.r.costSource = 'reported';
    }
  }
}
