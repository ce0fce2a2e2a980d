import { FactoryError } from '../util/errors';
import { aiderAdapter } from './aider';
import { claudeCodeAdapter } from './claude-code';
import { codexAdapter } from './codex';
import { customAdapter } from './custom';
import { geminiAdapter } from './gemini';
import { replayAdapter } from './replay';
import type { AgentAdapter } from './types';

/** Every adapter by its config / `--agent` name. */
export const ADAPTERS: Readonly<Record<string, AgentAdapter>> = {
  'claude-code': claudeCodeAdapter,
  aider: aiderAdapter,
  codex: codexAdapter,
  gemini: geminiAdapter,
  custom: customAdapter,
  replay: replayAdapter,
};

/** The adapter named `name`, or a FactoryError listing the known ones. */
export function getAdapter(name: string): AgentAdapter {
  const a = Object.prototype.hasOwnProperty.call(ADAPTERS, name) ? ADAPTERS[name] : undefined;
  if (!a) throw new FactoryError(`unknown agent '${name}' (known: ${Object.keys(ADAPTERS).join(', ')})`, 'agent_unknown');
  return a;
}
