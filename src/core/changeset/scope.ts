import picomatch from 'picomatch';
import { checkRepoPath, type PathRule } from '../paths/validate';
import type { Change } from './diff';

/** Why a change is not allowed. Path rules come from THE path validator. */
export type ViolationRule = PathRule | 'symlink' | 'special-file' | 'type-change' | 'forbidden' | 'readonly' | 'out-of-scope';

export interface Violation {
  path: string;
  rule: ViolationRule;
}

export interface Scope {
  modify: readonly string[];
  readonly: readonly string[];
  forbidden: readonly string[];
}

/** Compiled matchers for a scope: exact, case-sensitive, dotfiles included, no brace tricks on paths. */
export interface ScopeMatcher {
  modify: (p: string) => boolean;
  readonly: (p: string) => boolean;
  forbidden: (p: string) => boolean;
}

const PM_OPTIONS: picomatch.PicomatchOptions = { dot: true, nocase: false, nonegate: true, noextglob: true, strictSlashes: true };

function compile(globs: readonly string[]): (p: string) => boolean {
  if (globs.length === 0) return () => false;
  return picomatch([...globs], PM_OPTIONS);
}

export function compileScope(scope: Scope): ScopeMatcher {
  return { modify: compile(scope.modify), readonly: compile(scope.readonly), forbidden: compile(scope.forbidden) };
}

/** Which part of a scope a path falls in. */
export type ScopeClass = 'forbidden' | 'readonly' | 'modify';

/**
 * The part of the scope `p` (repo-relative, forward slashes) falls in, or undefined when it is in
 * none. Precedence forbidden > readonly > modify: a path listed in `modify` that also matches
 * `readonly` or `forbidden` may not be written. The one ranking shared by the scope check and the
 * editor's plan-scope decorations.
 */
export function scopeClassOf(m: ScopeMatcher, p: string): ScopeClass | undefined {
  if (m.forbidden(p)) return 'forbidden';
  if (m.readonly(p)) return 'readonly';
  if (m.modify(p)) return 'modify';
  return undefined;
}

/**
 * Check a changeset against the plan's scope (SECURITY 9–12, 14). Every change, deletions
 * included, must pass the path validator, be a regular file (no new or changed symlink, no FIFO or
 * device, no file↔dir swap), and lie in `modify` but not in `readonly` or `forbidden`. A rename is
 * a deletion plus an addition, so both ends are checked. One violation per path (the first found).
 */
export function checkScope(changes: readonly Change[], scope: Scope | ScopeMatcher): Violation[] {
  const m: ScopeMatcher = typeof scope.modify === 'function' ? (scope as ScopeMatcher) : compileScope(scope as Scope);
  const violations: Violation[] = [];
  for (const c of changes) {
    const problem = checkRepoPath(c.path);
    let rule: ViolationRule | undefined = problem?.rule;
    if (!rule && (c.after === 'symlink' || (c.before === 'symlink' && c.kind !== 'deleted'))) rule = 'symlink';
    if (!rule && (c.after === 'other' || c.before === 'other')) rule = 'special-file';
    if (!rule && c.kind === 'type-changed') rule = 'type-change';
    if (!rule) {
      const cls = scopeClassOf(m, c.path);
      if (cls !== 'modify') rule = cls ?? 'out-of-scope';
    }
    if (rule) violations.push({ path: c.path, rule });
  }
  return violations;
}
