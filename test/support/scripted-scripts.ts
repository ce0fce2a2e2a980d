/**
 * Tool calls and tallies for driving the real agent CLIs through the scripted provider: how each
 * CLI's own file-writing tool is called by the model, and what a provider was asked per model.
 */
import type { RecordedRequest, ScriptedTurn } from './scripted-provider';

export type ToolCall = NonNullable<ScriptedTurn['toolCall']>;

/** `s` as one POSIX shell word (single-quoted; embedded quotes closed, escaped and reopened). */
export function shellWord(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Claude Code's `Write` tool writing `content` to the absolute `filePath`. */
export function claudeWrite(filePath: string, content: string): ToolCall {
  return { name: 'Write', input: { file_path: filePath, content } };
}

/**
 * Codex's shell tool (`exec_command`, an OpenAI Responses function call) writing `content` to the
 * absolute `filePath` with printf: a path outside Codex's working folder (the Auditor's
 * /factory/out, its working folder /workspace being read-only) is reached through the shell.
 */
export function codexShellWrite(filePath: string, content: string): ToolCall {
  return { name: 'exec_command', input: { cmd: `printf '%s' ${shellWord(content)} > ${shellWord(filePath)}` } };
}

/** Model id (as the request body named it) → how many requests asked for it. */
export function requestsByModel(requests: readonly RecordedRequest[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of requests) {
    const m = typeof r.body.model === 'string' ? r.body.model : '(none)';
    out.set(m, (out.get(m) ?? 0) + 1);
  }
  return out;
}
