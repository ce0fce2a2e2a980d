/**
 * The agent adapters' names (`--agent`, `worker.agent`, `routing.*.agent`), at L1 so the config
 * checks can name them without importing the adapters (L2). `test/unit/config/agent-names.test.ts`
 * keeps this list equal to the keys of `ADAPTERS` (core/agents/registry.ts).
 */
export const AGENT_NAMES = ['claude-code', 'codex', 'gemini', 'aider', 'custom', 'replay'] as const;
export type AgentName = (typeof AGENT_NAMES)[number];

/** Whether `name` is a known agent adapter. */
export function isAgentName(name: string): name is AgentName {
  return (AGENT_NAMES as readonly string[]).includes(name);
}
