import type { Provider } from '../gateway/usage';
import type { PriceTable, TokenUsage } from '../config/prices';

/** How an agent run ended, in the Controller's words (AGENT-CLIS.md "Adapter shape"). */
export type AgentOutcome = 'success' | 'max_turns' | 'budget_exceeded' | 'auth_error' | 'rate_limited' | 'timeout' | 'killed' | 'agent_error' | 'unknown';

/** Where a run's cost figure came from; the gateway's metering wins whenever it ran. */
export type CostSource = 'gateway' | 'reported' | 'computed' | 'unknown';

/** What an adapter needs to build the agent's command line. Paths are inside the container. */
export interface AgentRunSpec {
  /** The staging copy the agent edits (its working directory). */
  workdir: string;
  /** The prompt, written by the runtime (fed on stdin or named on the command line). */
  promptFile: string;
  /** A writable home folder for the agent's own state (tmpfs inside the container). */
  homeDir: string;
  /** The shim's base URL inside the container, e.g. `http://127.0.0.1:41234`. */
  gatewayUrl: string;
  model?: string;
  maxTurns?: number;
  /** The agent's own budget flag, where it has one (the gateway's cap is the real one). */
  budgetUsd?: number;
  /** Extra argv from config `agents.<name>.args`. */
  extraArgs?: string[];
  /** For `custom`: the command to run. */
  command?: string[];
  /** For `replay`: the recorded-edits file. */
  replayFile?: string;
  /** For `replay`: how to run the worker runtime itself (`[node, worker.js]`). */
  runtimeArgv?: string[];
  /** Where the agent may write side files (aider's analytics log). */
  outDir?: string;
}

/** A fully described process: nothing here runs it. */
export interface Invocation {
  argv: string[];
  env: Record<string, string>;
  /** File whose content goes to the agent's stdin (otherwise stdin is empty). */
  stdinFile?: string;
  /** Config files the agent needs, written (mode 0600) before it starts. */
  files?: Array<{ path: string; content: string }>;
  /** Files whose lines are fed to the parser after the run (aider's analytics log). */
  sideLogs?: string[];
}

/** How the agent process ended, as the runner saw it. */
export interface AgentExit {
  code: number | null;
  signal?: string | null;
  /** The runner killed it at the time cap. */
  timedOut?: boolean;
  /** The runner (or the Controller, or the gateway's budget stop) killed it. */
  killed?: boolean;
  /** Tail of stderr (capped), for classification and the log. */
  stderr?: string;
}

/** Usage for one model, with the cost the agent reported for it (if any). */
export interface ModelUsage extends TokenUsage {
  costUsd?: number;
}

/** The finalized outcome of one agent run. */
export interface AgentResult {
  agent: string;
  outcome: AgentOutcome;
  usage: TokenUsage;
  perModel: Record<string, ModelUsage>;
  costUsd: number | undefined;
  costSource: CostSource;
  model?: string;
  numTurns?: number;
  /** The agent's final message, when it printed one. */
  finalText?: string;
  errors: string[];
  /** Warnings about the output itself (non-JSON lines skipped, truncated last line, unpriced model). */
  warnings: string[];
}

/** Parses one run's output incrementally, then finalizes it. */
export interface AgentParser {
  /** Feed a chunk of stdout (any size; lines may be split across chunks). */
  push(chunk: string): void;
  finish(exit: AgentExit): AgentResult;
}

/** One coding agent CLI: how to call it and how to read what it printed. */
export interface AgentAdapter {
  readonly name: string;
  /** The provider its model calls go to (for gateway routing and key checks); undefined = any. */
  readonly provider?: Provider;
  /** The model used when neither config nor CLI names one. */
  readonly defaultModel?: string;
  invocation(spec: AgentRunSpec): Invocation;
  parser(prices: PriceTable, model?: string): AgentParser;
}
