/**
 * The vocabulary of scope derivation (issue 15): which files a ticket's Worker may modify or only
 * read, each entry with the reasons it was chosen. Every source of evidence (the ticket and AC
 * text, the repository's history, plan documents, matching tests, config overrides, the optional
 * Controller model) yields candidates; `deriveScope` (derive.ts) merges them into the plan's scope.
 */

/** How a candidate may be used by the Worker. */
export type ScopeClass = 'modify' | 'readonly';

/** One piece of evidence that a path (or glob) belongs to a ticket's scope. */
export interface ScopeCandidate {
  /** Repo-relative path or glob, forward slashes (it still passes the path validator later). */
  path: string;
  cls: ScopeClass;
  /** One line a person can check: "named in D201::AC-3", "changed by 1a2b3c4 for D201::AC-2", "config rule D2*". */
  reason: string;
  /** Which source produced it. */
  source: 'text' | 'history' | 'evidence' | 'plan-doc' | 'test-match' | 'config' | 'controller';
  /**
   * A `readonly` the ticket says in so many words ("engine/pnl.py is read-only"): it outranks
   * derived `modify` candidates of the paths it covers and is never dropped for overlapping them.
   */
  explicit?: boolean;
}

/** A plan's scope with the reasons of every modify/readonly entry (glob → reasons). */
export interface DerivedScope {
  scope: { modify: string[]; readonly: string[]; forbidden: string[] };
  /** Glob (as in `scope`) → why it is there. Forbidden entries carry their reason too. */
  reasons: Record<string, string[]>;
  /**
   * Set when nothing could be derived and the config default was used: why, and the exact
   * setting a person can add to `.factory/config.json` to give this ticket a scope.
   */
  fallback?: { why: string; setting: string };
}
