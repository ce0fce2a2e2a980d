/**
 * What the config says about a ticket's scope (issue 15): the forbidden set, which always wins,
 * `scope.readonly`, which every ticket may only read, and the per-ticket overrides (`scope.tickets`, glob on the ticket id), which win over every
 * derived candidate.
 */
import picomatch from 'picomatch';
import type { FactoryConfig } from '../../config/schema';
import { ssotPaths } from '../builder';
import type { ForbiddenEntry } from './plan-docs';
import type { ScopeCandidate } from './scope-types';

/** Matching as the scope check does (changeset/scope.ts): dotfiles included, case-sensitive. */
export const PM_OPTIONS: picomatch.PicomatchOptions = { dot: true, nocase: false, nonegate: true, noextglob: true, strictSlashes: true };

/** Secrets by file name, at any depth (`.env`, `.env.local`, `api/.env.prod` …). */
export const ENV_GLOBS = ['.env*', '**/.env*'] as const;

/** The config's `scope.readonly`, as candidates: read-only for every ticket, whatever names them. */
export function configReadonly(config: FactoryConfig): ScopeCandidate[] {
  return config.scope.readonly.map((p) => ({ path: p, cls: 'readonly', reason: 'config scope.readonly', source: 'config' }));
}

/** The per-ticket overrides of the config that apply to `ticketId`, in config order. */
export function overridesFor(ticketId: string, config: FactoryConfig): FactoryConfig['scope']['tickets'] {
  return config.scope.tickets.filter((o) => picomatch.isMatch(ticketId, o.ticket));
}

/**
 * The forbidden set with a reason per entry: SSOT documents and `.factory/`, `.env*`, the
 * evidence and autopilot (cycle records, logs) folders, `scope.forbidden`, and the forbidden
 * lists of the matching overrides.
 */
export function forbiddenEntries(ticketId: string, config: FactoryConfig): ForbiddenEntry[] {
  const out: ForbiddenEntry[] = ssotPaths(config).map((p) => ({ path: p, reason: p === '.factory/**' ? 'factory state (.factory/)' : 'SSOT document' }));
  ENV_GLOBS.forEach((p) => out.push({ path: p, reason: 'secrets (.env files)' }));
  out.push({ path: `${config.paths.evidence}/**`, reason: 'evidence (config paths.evidence)' });
  out.push({ path: `${config.paths.autopilot}/**`, reason: 'cycle records and logs (config paths.autopilot)' });
  config.scope.forbidden.forEach((p) => out.push({ path: p, reason: 'config scope.forbidden' }));
  for (const o of overridesFor(ticketId, config)) o.forbidden?.forEach((p) => out.push({ path: p, reason: `config rule ${o.ticket}` }));
  return out;
}

/**
 * Apply the matching overrides to the derived candidates, in config order. An override's
 * `modify` replaces the modify set, as in `scopeFor`: derived modify candidates it does not cover
 * stay as `readonly` (still worth reading), earlier overrides' modify globs go. Its `readonly`
 * turns the derived modify candidates it covers into `readonly`. Reason: `config rule <glob>`.
 */
export function applyOverrides(ticketId: string, config: FactoryConfig, candidates: readonly ScopeCandidate[]): ScopeCandidate[] {
  let out = [...candidates];
  const demote = (keep: (p: string) => boolean): void => {
    out = out.map((c) => (c.cls === 'modify' && c.source !== 'config' && !keep(c.path) ? { ...c, cls: 'readonly' } : c));
  };
  for (const o of overridesFor(ticketId, config)) {
    const reason = `config rule ${o.ticket}`;
    if (o.modify) {
      const covered = o.modify.length ? picomatch(o.modify, PM_OPTIONS) : (): boolean => false;
      demote(covered);
      out = out.filter((c) => !(c.source === 'config' && c.cls === 'modify'));
      o.modify.forEach((p) => out.push({ path: p, cls: 'modify', reason, source: 'config' }));
    }
    if (o.readonly?.length) {
      const covered = picomatch(o.readonly, PM_OPTIONS);
      demote((p) => !covered(p));
      o.readonly.forEach((p) => out.push({ path: p, cls: 'readonly', reason, source: 'config' }));
    }
  }
  return out;
}
