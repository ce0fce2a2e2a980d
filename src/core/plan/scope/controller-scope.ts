/**
 * The Controller model's review between a derived scope and the plan: `reviewCandidatesOf` turns
 * a `deriveScope` result into the candidates the model reviews, `applyReview` puts the reviewed
 * candidates back in its place. Pure; the review itself is controller-review.ts.
 */
import type { DerivedScope, ScopeCandidate, ScopeClass } from './scope-types';

/** The reason config-rules.ts gives a per-ticket override's entries: a person's choice, kept whatever the model says. */
const CONFIG_RULE = /^config rule /;

/**
 * The modify and readonly entries of `derived` as candidates, one per reason (so every reason
 * survives the review). Entries from a per-ticket config rule are source `config`; the rest
 * `text` (the candidates' own sources are merged away by then; only `config` changes what the
 * review may do with them).
 */
export function reviewCandidatesOf(derived: DerivedScope): ScopeCandidate[] {
  const out: ScopeCandidate[] = [];
  const add = (cls: ScopeClass, paths: readonly string[]) => {
    for (const path of paths) {
      const reasons = derived.reasons[path]?.length ? derived.reasons[path] : ['derived'];
      for (const reason of reasons) out.push({ path, cls, reason, source: CONFIG_RULE.test(reason) ? 'config' : 'text' });
    }
  };
  add('modify', derived.scope.modify);
  add('readonly', derived.scope.readonly);
  return out;
}

/**
 * `derived` with its modify and readonly entries replaced by the reviewed candidates (modify
 * wins when a path is in both; reasons in order, without repeats). The forbidden list and its
 * reasons stay as derived. A fallback is no longer one once the model named files to modify.
 */
export function applyReview(derived: DerivedScope, reviewed: readonly ScopeCandidate[]): DerivedScope {
  const entries = new Map<string, { cls: ScopeClass; reasons: string[] }>();
  for (const c of reviewed) {
    const e = entries.get(c.path) ?? { cls: c.cls, reasons: [] };
    if (c.cls === 'modify') e.cls = 'modify';
    if (!e.reasons.includes(c.reason)) e.reasons.push(c.reason);
    entries.set(c.path, e);
  }
  const of = (cls: ScopeClass) => [...entries].filter(([, e]) => e.cls === cls).map(([p]) => p).sort();
  const reasons: Record<string, string[]> = Object.fromEntries(derived.scope.forbidden.map((f) => [f, derived.reasons[f] ?? []]));
  for (const [p, e] of entries) reasons[p] = e.reasons;
  const fromModel = reviewed.some((c) => c.source === 'controller' && c.cls === 'modify');
  return {
    scope: { modify: of('modify'), readonly: of('readonly'), forbidden: [...derived.scope.forbidden] },
    reasons,
    ...(derived.fallback && !fromModel ? { fallback: derived.fallback } : {}),
  };
}
