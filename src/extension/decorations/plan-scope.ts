/**
 * Which files the current plan lets the Worker touch: plan.json read as untrusted input (its zod
 * schema), its scope compiled with the SAME matcher and precedence the scope check uses
 * (src/core/changeset/scope.ts: forbidden > readonly > modify), and the decoration each class
 * gets. No `vscode` here: plain mocha tests it.
 */
import * as path from 'node:path';
import { compileScope, scopeClassOf, type ScopeClass, type ScopeMatcher } from '../../core/changeset/scope';
import { planSchema } from '../../core/contracts/plan';
import { readUntrustedJson, UntrustedJsonError } from '../../core/contracts/untrusted-json';

/** plan.json's name inside `paths.autopilot` (as the cycle writes it). */
export const PLAN_FILE = 'plan.json';
const MAX_PLAN_BYTES = 1024 * 1024;

/** The compiled scope of one plan. */
export interface PlanScope {
  ticketId: string;
  runId: string;
  matcher: ScopeMatcher;
}

export type PlanRead = { kind: 'none' } | { kind: 'invalid'; message: string } | { kind: 'ok'; scope: PlanScope };

/** Reads and validates plan.json: absent is `none`, anything that is not a valid plan is `invalid`. Never throws. */
export function readPlanScope(file: string): PlanRead {
  try {
    const plan = readUntrustedJson(file, planSchema, MAX_PLAN_BYTES, PLAN_FILE);
    return { kind: 'ok', scope: { ticketId: plan.ticket_id, runId: plan.run_id, matcher: compileScope(plan.scope) } };
  } catch (err) {
    if (err instanceof UntrustedJsonError && err.rule === 'missing') return { kind: 'none' };
    return { kind: 'invalid', message: err instanceof Error ? err.message : String(err) };
  }
}

/** What a file in the scope shows in the explorer and editor tabs (a FileDecoration, without `vscode`). */
export interface ScopeDecoration {
  scope: ScopeClass;
  /** At most two characters (VS Code's limit). */
  badge: string;
  tooltip: string;
  /** A theme colour id. */
  color: string;
}

/**
 * Core workbench colours only: `gitDecoration.*` colours are contributed by the git extension, which
 * does not run in Restricted Mode (or when disabled), and an unknown colour id paints nothing.
 */
const LOOK: Record<ScopeClass, { badge: string; color: string }> = {
  modify: { badge: '✎', color: 'charts.blue' },
  readonly: { badge: 'RO', color: 'disabledForeground' },
  forbidden: { badge: '⊘', color: 'errorForeground' },
};

/** The decoration of `relPath` (repo-relative, forward slashes) under `scope`, or undefined when the plan does not name it. */
export function scopeDecoration(scope: PlanScope, relPath: string): ScopeDecoration | undefined {
  if (!relPath) return undefined;
  const cls = scopeClassOf(scope.matcher, relPath);
  if (!cls) return undefined;
  return { scope: cls, ...LOOK[cls], tooltip: `in plan scope: ${cls} (${scope.ticketId})` };
}

/**
 * `file` relative to `root` with forward slashes, or undefined when it is not strictly inside it
 * (the root itself, a sibling, another drive). `sep` is the platform's unless a test pins it.
 */
export function repoRelative(root: string, file: string, p: Pick<typeof path, 'relative' | 'isAbsolute' | 'sep'> = path): string | undefined {
  const rel = p.relative(root, file);
  if (!rel || p.isAbsolute(rel) || rel === '..' || rel.startsWith(`..${p.sep}`)) return undefined;
  return rel.split(p.sep).join('/');
}
