import picomatch from 'picomatch';
import type { FactoryConfig, RiskLevel } from '../config/schema';

const ORDER: readonly RiskLevel[] = ['LOW', 'MED', 'HIGH', 'CRIT'];

/** Numeric rank of a risk level (LOW = 0 … CRIT = 3). */
export function riskRank(level: RiskLevel): number {
  return ORDER.indexOf(level);
}

/** The higher of two risk levels. */
export function maxRisk(a: RiskLevel, b: RiskLevel): RiskLevel {
  return riskRank(a) >= riskRank(b) ? a : b;
}

export interface RiskAssessment {
  level: RiskLevel;
  /** Which rule raised the level, and for which path (for the plan's explanation). */
  reasons: { pattern: string; level: RiskLevel; path: string }[];
  auditorRequired: boolean;
}

/**
 * Risk of a ticket's work from the configured path rules (spec §7-1: engine core → HIGH, PnL /
 * profit logic → CRIT). A rule applies when it matches a file the Worker may modify, or the modify
 * glob itself read as a path (so `engine/core/**` is HIGH even before such a file exists).
 * The level never drops below `risk.default`.
 */
export function assessRisk(modifyGlobs: string[], files: string[], config: FactoryConfig): RiskAssessment {
  const inScope = picomatch(modifyGlobs.length ? modifyGlobs : ['**'], { dot: true });
  const candidates = [...files.filter((f) => inScope(f)), ...modifyGlobs];
  let level: RiskLevel = config.risk.default;
  const reasons: RiskAssessment['reasons'] = [];
  for (const rule of config.risk.rules) {
    const match = picomatch(rule.pattern, { dot: true, nocase: true });
    const hit = candidates.find((p) => match(p));
    if (hit !== undefined) {
      reasons.push({ pattern: rule.pattern, level: rule.level, path: hit });
      level = maxRisk(level, rule.level);
    }
  }
  return { level, reasons, auditorRequired: riskRank(level) >= riskRank(config.risk.auditorAt) };
}
