import { emptyResult, pushCapped, settleOutcome } from './base';
import { LineSplitter, classifyMessage } from './lines';
import { PLACEHOLDER_KEY } from './placeholder';
import type { PriceTable } from '../config/prices';
import type { AgentAdapter, AgentExit, AgentParser, AgentResult, AgentRunSpec, Invocation } from './types';
import { FactoryError } from '../util/errors';

/**
 * Any command (config `agents.custom.command`). It gets the prompt file's path, the gateway base
 * URLs and placeholder keys in the usual variables; its output is kept, not interpreted, and its
 * cost is whatever the gateway metered.
 */
export const customAdapter: AgentAdapter = {
  name: 'custom',

  invocation(spec: AgentRunSpec): Invocation {
    if (!spec.command?.length) throw new FactoryError('the custom agent needs a command (config agents.custom.command)', 'agent_config');
    return {
      argv: [...spec.command, ...(spec.extraArgs ?? [])],
      stdinFile: spec.promptFile,
      env: {
        HOME: spec.homeDir,
        FACTORY_PROMPT_FILE: spec.promptFile,
        FACTORY_GATEWAY_URL: spec.gatewayUrl,
        ...(spec.model ? { FACTORY_MODEL: spec.model } : {}),
        ANTHROPIC_BASE_URL: `${spec.gatewayUrl}/anthropic`,
        ANTHROPIC_API_KEY: PLACEHOLDER_KEY,
        OPENAI_BASE_URL: `${spec.gatewayUrl}/openai/v1`,
        OPENAI_API_KEY: PLACEHOLDER_KEY,
        GOOGLE_GEMINI_BASE_URL: `${spec.gatewayUrl}/gemini`,
        GEMINI_API_KEY: PLACEHOLDER_KEY,
      },
    };
  },

  parser(_prices: PriceTable, model?: string): AgentParser {
    const r: AgentResult = emptyResult('custom');
    r.model = model;
    let last = '';
    const lines = new LineSplitter((l) => {
      if (l.trim()) last = l.trim();
    });
    return {
      push: (chunk) => lines.push(chunk),
      finish(exit: AgentExit): AgentResult {
        lines.end();
        r.finalText = last || undefined;
        if (exit.code !== 0 && exit.stderr?.trim()) pushCapped(r.errors, exit.stderr.trim().split('\n').slice(-5).join('\n'));
        r.outcome = settleOutcome(undefined, exit, exit.code !== 0 ? classifyMessage(exit.stderr ?? '') : undefined);
        return r;
      },
    };
  },
};
