/**
 * The model tiers of the cost gate (spec §6-2, §7-1): what a plan's `model_budget` names, what the
 * routing table maps risk levels to, and what escalation on retry steps up. Cheapest first.
 */
export const TIERS = ['economy', 'standard', 'premium'] as const;
export type Tier = (typeof TIERS)[number];

/** 0 for economy … 2 for premium: `tierRank(a) < tierRank(b)` means a is the cheaper tier. */
export function tierRank(t: Tier): number {
  return TIERS.indexOf(t);
}

/** The tier `steps` above `t`, capped at `max` (never below `t`). */
export function stepUp(t: Tier, steps: number, max: Tier = 'premium'): Tier {
  const top = Math.max(tierRank(t), tierRank(max));
  return TIERS[Math.min(top, tierRank(t) + Math.max(0, Math.floor(steps)))] ?? t;
}
