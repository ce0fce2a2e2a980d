import type { Plan } from '../../contracts/plan';

/**
 * How a plan's scope is shown to a person (issue 15): `factory dry`, `factory plan` and the
 * extension print the same lines, so what one says about a ticket's scope the others say too.
 */

/**
 * The loud line of a plan that fell back to the config default, or undefined when the scope was
 * derived. It names the ticket, the default in force and the exact setting that gives the ticket
 * its own scope.
 */
export function scopeFallbackLine(plan: Pick<Plan, 'ticket_id' | 'scope' | 'scope_fallback'>): string | undefined {
  const f = plan.scope_fallback;
  if (!f) return undefined;
  return `scope: nothing could be derived for ${plan.ticket_id} — using the config default (${plan.scope.modify.join(', ') || 'nothing'}); to set it add to .factory/config.json: ${f.setting}`;
}

/**
 * One line per modify/readonly entry that has reasons: `<glob> ← <reason>; <reason>`, each
 * prefixed with `indent`. Forbidden entries are left out: their reason is always the same rule.
 */
export function scopeReasonLines(plan: Pick<Plan, 'scope' | 'scope_reasons'>, indent: string): string[] {
  const reasons = plan.scope_reasons ?? {};
  const entries = [...plan.scope.modify.map((g) => ['modify', g] as const), ...plan.scope.readonly.map((g) => ['readonly', g] as const)];
  return entries.filter(([, g]) => reasons[g]?.length).map(([cls, g]) => `${indent}${cls === 'readonly' ? '(ro) ' : ''}${g} ← ${(reasons[g] ?? []).join('; ')}`);
}
