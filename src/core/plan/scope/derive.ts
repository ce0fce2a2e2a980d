/**
 * deriveScope (issue 15 item 1): the scope of one ticket's plan from every source of evidence —
 * the ticket and AC text, plan documents, the repository's history and evidence (candidates the
 * caller passes in, history-source.ts), the optional Controller model, and the tests matching all
 * of them — then the config's per-ticket overrides, which win, and the forbidden set, which always
 * wins. Pure: the caller does the I/O (git, file reads) and passes results and look-ups in.
 */
import picomatch from 'picomatch';
import type { FactoryConfig } from '../../config/schema';
import { isSafeRepoPath } from '../../paths/validate';
import type { AcceptanceCriterion, Ticket } from '../../ssot/model';
import { applyOverrides, configReadonly, forbiddenEntries, PM_OPTIONS } from './config-rules';
import { fallbackScope } from './fallback';
import { type FileIndex, indexFiles } from './file-index';
import { narrow, type Reasoned } from './narrow';
import { type ForbiddenEntry, parsePlanDoc } from './plan-docs';
import type { DerivedScope, ScopeCandidate } from './scope-types';
import { testMatchCandidates } from './test-match';
import { scopeTexts, textCandidates, type TextLookup } from './text-sources';

export interface DeriveInput {
  /** The ticket (roadmap row and its per-ticket AC table), when the roadmap has it. */
  ticket?: Ticket;
  /** The ticket id when `ticket` is undefined (default: the first AC's ticket id). */
  ticketId?: string;
  /** The ACs of this cycle (ledger rows). */
  acs: readonly AcceptanceCriterion[];
  /** Tracked files, `git ls-files` output (repo-relative, forward slashes). */
  files: readonly string[];
  config: FactoryConfig;
  /** Candidates from commits and evidence naming the ticket (history-source.ts). */
  history?: readonly ScopeCandidate[];
  /** The plan documents the caller read (`planDocPaths` names them). */
  planDocs?: readonly { path: string; text: string }[];
  /** Candidates from the optional Controller model, already validated by its caller. */
  controller?: readonly ScopeCandidate[];
  /** Config-key and test-name look-ups (text-sources.ts); without them those names are skipped. */
  lookup?: TextLookup;
  /** `indexFiles(files)` when the caller already built it (planDocPaths needs one too). */
  index?: FileIndex;
}

interface Entry {
  cls: ScopeCandidate['cls'];
  reasons: string[];
  /** Written by a person (the config, or "x is read-only" in the text): never dropped for overlapping a modify entry. */
  pinned: boolean;
}

/** A matcher for `globs` (nothing matches an empty list). */
function matcher(globs: readonly string[]): (p: string) => boolean {
  return globs.length ? picomatch([...globs], PM_OPTIONS) : (): boolean => false;
}

/**
 * Read-only first, as the scope check ranks it (changeset/scope.ts `scopeClassOf`): the config's
 * `scope.readonly` joins the candidates, and a modify candidate it covers becomes read-only with
 * that reason added, since the Worker could not write it anyway. A read-only the ticket text says
 * explicitly demotes the derived modify candidates it covers the same way; config rules, which
 * win over derived evidence, keep theirs.
 */
function readonlyFirst(candidates: readonly ScopeCandidate[], config: FactoryConfig): ScopeCandidate[] {
  const global = configReadonly(config);
  const inGlobal = matcher(global.map((c) => c.path));
  const inExplicit = matcher(candidates.filter((c) => c.explicit && c.cls === 'readonly').map((c) => c.path));
  const out: ScopeCandidate[] = [];
  for (const c of candidates) {
    if (c.cls === 'modify' && inGlobal(c.path)) {
      out.push({ ...c, cls: 'readonly' }, { path: c.path, cls: 'readonly', reason: 'config scope.readonly', source: 'config' });
    } else if (c.cls === 'modify' && c.source !== 'config' && inExplicit(c.path)) {
      out.push({ ...c, cls: 'readonly', explicit: true });
    } else out.push(c);
  }
  return [...out, ...global];
}

/** One entry per path; `modify` wins over `readonly`; reasons kept in order, without repeats. */
function merge(candidates: readonly ScopeCandidate[]): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const c of candidates) {
    const e = out.get(c.path) ?? { cls: c.cls, reasons: [], pinned: false };
    if (c.cls === 'modify') e.cls = 'modify';
    if (!e.reasons.includes(c.reason)) e.reasons.push(c.reason);
    e.pinned ||= c.source === 'config' || c.explicit === true;
    out.set(c.path, e);
  }
  return out;
}

/**
 * Split into the two classes. A derived readonly entry overlapping a modify entry (either glob
 * covering the other) is dropped: the scope check ranks readonly above modify, so keeping it
 * would forbid what the evidence says to change. Config and explicit readonly entries stay: a
 * person chose them.
 */
function split(entries: Map<string, Entry>): { modify: Reasoned; readonly: Reasoned } {
  const modify: Reasoned = new Map();
  const readonly: Reasoned = new Map();
  for (const [p, e] of entries) (e.cls === 'modify' ? modify : readonly).set(p, e.reasons);
  const mods = [...modify.keys()];
  const inModify = matcher(mods);
  for (const p of readonly.keys()) {
    if (entries.get(p)?.pinned) continue;
    const covers = picomatch(p, PM_OPTIONS);
    if (inModify(p) || mods.some((m) => covers(m))) readonly.delete(p);
  }
  return { modify, readonly };
}

/** The forbidden list (first spelling of each path) and its reasons. */
function forbiddenScope(entries: readonly ForbiddenEntry[]): { forbidden: string[]; reasons: Record<string, string[]> } {
  const reasons: Record<string, string[]> = {};
  for (const f of entries) {
    const list = (reasons[f.path] ??= []);
    if (!list.includes(f.reason)) list.push(f.reason);
  }
  return { forbidden: Object.keys(reasons), reasons };
}

/**
 * Candidates that pass THE path validator for their class: a protected place (`.github/workflows`,
 * `.vscode` …) named for modification may still be read; anything else unsafe is dropped.
 */
function safe(c: ScopeCandidate): ScopeCandidate[] {
  if (isSafeRepoPath(c.path, { kind: 'glob', protect: c.cls === 'modify' })) return [c];
  return c.cls === 'modify' && isSafeRepoPath(c.path, { kind: 'glob', protect: false }) ? [{ ...c, cls: 'readonly' }] : [];
}

/** The derived scope of the work (see the module comment); `fallback` set when no modify entry remains. */
export function deriveScope(input: DeriveInput): DerivedScope {
  const { config } = input;
  const index = input.index ?? indexFiles(input.files);
  const ticketId = input.ticket?.id ?? input.ticketId ?? input.acs[0]?.ticketId ?? '';
  const docs = (input.planDocs ?? []).map((d) => parsePlanDoc(d.path, d.text));
  const named = readonlyFirst(
    [
      ...docs.flatMap((d) => d.candidates),
      ...textCandidates(scopeTexts(input.ticket, input.acs), index, input.lookup),
      ...(input.history ?? []),
      ...(input.controller ?? []),
    ].flatMap(safe),
    config,
  );
  // Again after the tests and overrides join: the scope check ranks readonly above those too.
  const all = readonlyFirst(applyOverrides(ticketId, config, [...named, ...testMatchCandidates(named, index)]), config);
  const { forbidden, reasons: forbiddenReasons } = forbiddenScope([...forbiddenEntries(ticketId, config), ...docs.flatMap((d) => d.forbidden)]);
  const isForbidden = picomatch(forbidden, PM_OPTIONS);
  const { modify, readonly } = split(merge(all.filter((c) => !isForbidden(c.path))));
  const narrowed = { modify: narrow(modify, index), readonly: narrow(readonly, index) };
  const reasons: Record<string, string[]> = { ...forbiddenReasons, ...Object.fromEntries([...narrowed.readonly, ...narrowed.modify]) };
  const derived: DerivedScope = {
    scope: { modify: [...narrowed.modify.keys()].sort(), readonly: [...narrowed.readonly.keys()].sort(), forbidden },
    reasons,
  };
  return derived.scope.modify.length ? derived : fallbackScope(ticketId, config, index, derived);
}
