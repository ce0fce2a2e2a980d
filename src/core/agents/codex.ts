import { emptyResult, computeCost, pushCapped, settleOutcome } from './base';
import { LineSplitter, classifyMessage, num, obj, parseJsonLine, str } from './lines';
import { PLACEHOLDER_KEY } from './placeholder';
import type { PriceTable } from '../config/prices';
import type { AgentAdapter, AgentExit, AgentOutcome, AgentParser, AgentResult, AgentRunSpec, Invocation } from './types';

/**
 * Codex CLI: `codex exec --json … -m M -` with the prompt on stdin. Its model provider is pointed
 * at the gateway through `-c` overrides (Codex ignores OPENAI_BASE_URL for its built-in provider),
 * with WebSockets off so it speaks plain HTTP + SSE to the Responses API. The stream never names
 * the model and carries no cost: cost = tokens × price table of `-m`.
 */
export const codexAdapter: AgentAdapter = {
  name: 'codex',
  provider: 'openai',
  defaultModel: 'gpt-5-codex',

  invocation(spec: AgentRunSpec): Invocation {
    const model = spec.model ?? this.defaultModel!;
    const provider = `{name="factory gateway",base_url="${spec.gatewayUrl}/openai/v1",env_key="CODEX_API_KEY",wire_api="responses",supports_websockets=false}`;
    return {
      argv: [
        'codex', 'exec', '--json', '--skip-git-repo-check',
        // The container is the sandbox (no network, non-root, read-only root): Codex's own
        // Landlock/seccomp sandbox needs kernel features a hardened container may not grant.
        '--dangerously-bypass-approvals-and-sandbox',
        '-c', 'model_provider="factory"', '-c', `model_providers.factory=${provider}`,
        '-c', 'check_for_update_on_startup=false',
        '-m', model, ...(spec.extraArgs ?? []), '-',
      ],
      stdinFile: spec.promptFile,
      env: { HOME: spec.homeDir, CODEX_HOME: `${spec.homeDir}/.codex`, CODEX_API_KEY: PLACEHOLDER_KEY },
      files: [{ path: `${spec.homeDir}/.codex/.keep`, content: '' }],
    };
  },

  parser(prices: PriceTable, model?: string): AgentParser {
    return new CodexParser(prices, model ?? codexAdapter.defaultModel!);
  },
};

class CodexParser implements AgentParser {
  private readonly r: AgentResult = emptyResult('codex');
  private readonly lines = new LineSplitter((l) => this.line(l));
  private completed = 0;
  private failed: string | undefined;
  private lastError: string | undefined;
  private skipped = 0;

  constructor(private readonly prices: PriceTable, model: string) {
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
      case 'turn.completed': {
        this.completed++;
        const u = obj(o.usage);
        if (u) {
          // A running total for the thread: the last one is the run's usage.
          const input = num(u.input_tokens);
          const cached = Math.min(input, num(u.cached_input_tokens));
          this.r.usage = { inputTokens: input - cached, cachedInputTokens: cached, cacheWriteTokens: num(u.cache_write_input_tokens), outputTokens: num(u.output_tokens) };
        }
        break;
      }
      case 'turn.failed':
        this.failed = str(obj(o.error)?.message) ?? 'turn failed';
        pushCapped(this.r.errors, this.failed);
        break;
      case 'error':
        this.lastError = str(o.message) ?? 'error';
        // Reconnect notices are progress, not failures, unless the run ends without a turn.
        if (!/^Reconnecting/.test(this.lastError)) pushCapped(this.r.errors, this.lastError);
        break;
      case 'item.completed': {
        const item = obj(o.item);
        if (item?.type === 'agent_message') this.r.finalText = str(item.text);
        if (item?.type === 'error' && str(item.message)) this.r.warnings.push(str(item.message)!);
        break;
      }
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
    this.r.numTurns = this.completed;
    let fromOutput: AgentOutcome | undefined;
    if (this.failed) fromOutput = classifyMessage(this.failed) ?? (/max[_ ]?turns?/i.test(this.failed) ? 'max_turns' : 'agent_error');
    else if (this.completed > 0 && (exit.code === 0 || exit.code === null)) fromOutput = 'success';
    else if (this.lastError) fromOutput = classifyMessage(this.lastError) ?? (exit.code === 0 ? undefined : 'agent_error');
    if (exit.code !== 0 && fromOutput === 'success') fromOutput = 'agent_error';
    this.r.outcome = settleOutcome(fromOutput, exit, classifyMessage(this.lastError ?? exit.stderr ?? ''));
    if (this.r.outcome === 'success' && this.completed === 0) this.r.outcome = 'unknown';
    if (this.completed > 0) {
      this.r.perModel = { [this.r.model!]: { ...this.r.usage } };
      Object.assign(this.r, computeCost(this.r.perModel, this.prices, this.r.warnings));
    }
    return this.r;
  }
}
