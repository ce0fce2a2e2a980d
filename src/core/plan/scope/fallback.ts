/**
 * When nothing names a file for a ticket (issue 15 item 2), the plan falls back to the config
 * default scope and says so, with the exact setting that would give this ticket a scope: a guess
 * from the repository's layout (its main code folder plus its tests folder) a person can correct.
 */
import picomatch from 'picomatch';
import type { FactoryConfig } from '../../config/schema';
import { scopeFor } from '../builder';
import { PM_OPTIONS } from './config-rules';
import { baseName, extension, type FileIndex } from './file-index';
import type { DerivedScope } from './scope-types';

const CODE_EXT = new Set(['py', 'ts', 'tsx', 'js', 'jsx', 'mjs', 'cjs', 'go', 'rs', 'java', 'kt', 'rb', 'php', 'cs', 'c', 'cc', 'cpp', 'h', 'hpp', 'swift', 'scala']);
const TEST_DIRS = ['tests', 'test', 'spec', '__tests__'];

/** `["pkg/**", "tests/**"]`: the top-level folder holding most code files, and the tests folder. */
export function suggestModify(index: FileIndex, config: FactoryConfig, isForbidden: (p: string) => boolean): string[] {
  const counts = new Map<string, number>();
  for (const p of index.files) {
    const top = p.split('/')[0] ?? '';
    if (top === p || TEST_DIRS.includes(top) || isForbidden(p) || !CODE_EXT.has(extension(baseName(p)))) continue;
    counts.set(top, (counts.get(top) ?? 0) + 1);
  }
  const main = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
  const tests = TEST_DIRS.find((d) => index.dirs.has(d));
  const out = [main, tests].filter((d): d is string => d !== undefined).map((d) => `${d}/**`);
  return out.length ? out : [...config.scope.modify];
}

/** The config snippet giving `ticketId` the modify globs `modify`. */
export function overrideSetting(ticketId: string, modify: readonly string[]): string {
  return `"scope": { "tickets": [{ "ticket": ${JSON.stringify(ticketId)}, "modify": [${modify.map((g) => JSON.stringify(g)).join(', ')}] }] }`;
}

/**
 * The config scope of the ticket (`scopeFor`), plus what was derived to read and forbid, with
 * `fallback` set. Says when the default matches no tracked file (the Worker could change nothing).
 */
export function fallbackScope(ticketId: string, config: FactoryConfig, index: FileIndex, derived: DerivedScope): DerivedScope {
  const base = scopeFor(ticketId, config);
  const isForbidden = picomatch(derived.scope.forbidden.length ? derived.scope.forbidden : ['.factory/**'], PM_OPTIONS);
  const modify = base.modify.filter((g) => !isForbidden(g));
  const reasons: Record<string, string[]> = { ...derived.reasons };
  modify.forEach((g) => (reasons[g] = ['config scope.modify (nothing derived)']));
  // The derivation lists scope.readonly already (with this reason); override readonly may not be.
  base.readonly.forEach((g) => (reasons[g] = [...new Set([...(reasons[g] ?? []), 'config scope.readonly'])]));
  const readonly = [...new Set([...derived.scope.readonly, ...base.readonly])].filter((g) => !modify.includes(g));
  const forbidden = [...new Set([...derived.scope.forbidden, ...base.forbidden])];
  forbidden.forEach((g) => (reasons[g] ??= ['config scope.forbidden']));
  const matcher = modify.length ? picomatch(modify, PM_OPTIONS) : (): boolean => false;
  const useless = index.files.size > 0 && ![...index.files].some((p) => matcher(p) && !isForbidden(p));
  const why =
    `nothing names a file of this repository for ${ticketId} (no path, module or test in its text, no commit or evidence, ` +
    `no plan document, no config rule): the config default scope.modify ${JSON.stringify(modify)} is used` +
    (useless ? ', and it matches no tracked file, so the Worker can change nothing that exists' : '');
  return {
    scope: { modify, readonly, forbidden },
    reasons,
    fallback: { why, setting: overrideSetting(ticketId, suggestModify(index, config, isForbidden)) },
  };
}
