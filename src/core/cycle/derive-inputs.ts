/**
 * The I/O behind a ticket's derived scope (issue 15): `deriveScope` (plan/scope/derive.ts) is pure,
 * so PLAN reads what it needs here — the plan documents of the work, the history and evidence
 * candidates, the tracked config files and the test files defining the test names the text cites —
 * and then derives. Only tracked regular files are read (never through a symlink), each capped.
 * A real cycle then lets the optional Controller model review the result (`reviewWorkScope`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FactoryConfig } from '../config/schema';
import { ssotPaths } from '../plan/builder';
import { deriveScope } from '../plan/scope/derive';
import { indexFiles } from '../plan/scope/file-index';
import { historyCandidates } from '../plan/scope/history-source';
import { planDocPaths } from '../plan/scope/plan-docs';
import { reviewScope } from '../plan/scope/controller-review';
import { applyReview, reviewCandidatesOf } from '../plan/scope/controller-scope';
import type { DerivedScope } from '../plan/scope/scope-types';
import { isTestFile } from '../plan/scope/test-match';
import { isTestName, scopeTexts, textTokens, type TextLookup } from '../plan/scope/text-sources';
import { runGit } from '../git/git';
import type { AcceptanceCriterion, Ticket } from '../ssot/model';
import type { ProviderKeys } from '../gateway/gateway';
import type { Logger } from '../util/log';
import type { ControllerSpend } from './cycle-types';
import { spendFromRecords, tierOfModel } from './spend';

/** A plan document or config file larger than this is not read: nobody writes 256 KiB of scope. */
const MAX_READ_BYTES = 256 * 1024;
/** Test names looked up in one `git grep` at most: a ticket citing more is not naming one test. */
const MAX_TEST_NAMES = 50;

/** The text of a tracked regular file below `root`, or undefined (missing, a symlink, too large). */
function readTracked(root: string, rel: string): string | undefined {
  try {
    const abs = path.join(root, rel);
    const st = fs.lstatSync(abs);
    if (!st.isFile() || st.size > MAX_READ_BYTES) return undefined;
    return fs.readFileSync(abs, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Test name → tracked test files that contain it as a word, for the test names `texts` cite: one
 * `git grep` for all of them. Empty when none is cited or git cannot answer.
 */
async function testsDefining(root: string, texts: readonly string[], signal?: AbortSignal): Promise<Map<string, string[]>> {
  const names = [...new Set(texts.flatMap(textTokens))].filter(isTestName).slice(0, MAX_TEST_NAMES);
  const out = new Map<string, string[]>();
  if (!names.length) return out;
  const args = ['grep', '-z', '-I', '-o', '-w', '-F', '--no-color', '--no-textconv', ...names.flatMap((n) => ['-e', n])];
  const r = await runGit(root, args, signal ? { signal } : {});
  if (r.code !== 0) return out;
  // `-z -o`: "<file>\0<match>\n" per match.
  for (const line of r.stdout.toString('utf8').split('\n')) {
    const [file = '', name = ''] = line.split('\0');
    if (!isTestFile(file)) continue;
    const list = out.get(name) ?? [];
    if (!list.includes(file)) out.set(name, [...list, file]);
  }
  return out;
}

/** What PLAN chose to work on. */
export interface Work {
  ticket: Ticket | undefined;
  acs: AcceptanceCriterion[];
}

/**
 * The derived scope of `work` in the repository at `root`, whose tracked files are `files`:
 * plan documents, history/evidence candidates and test-name look-ups gathered side by side, then
 * `deriveScope` (which falls back to the config default, saying why, when nothing names a file).
 */
export async function deriveWorkScope(root: string, config: FactoryConfig, work: Work, files: readonly string[], signal?: AbortSignal): Promise<DerivedScope> {
  const ticketId = work.ticket?.id ?? work.acs[0]?.ticketId ?? '';
  const acIds = work.acs.map((a) => a.id);
  const index = indexFiles(files);
  const texts = scopeTexts(work.ticket, work.acs).map((t) => t.text);
  const [history, tests] = await Promise.all([
    historyCandidates({
      root,
      ticketId,
      acIds,
      evidenceDir: config.paths.evidence,
      files: index.files,
      controllerFiles: [...ssotPaths(config), `${config.paths.evidence}/**`, `${config.paths.autopilot}/**`],
      ...(signal ? { signal } : {}),
    }),
    testsDefining(root, texts, signal),
  ]);
  const planDocs = planDocPaths(index, ticketId, acIds).flatMap((p) => {
    const text = readTracked(root, p);
    return text === undefined ? [] : [{ path: p, text }];
  });
  const lookup: TextLookup = { configText: (p) => (index.files.has(p) ? readTracked(root, p) : undefined), testsDefining: (n) => tests.get(n) ?? [] };
  return deriveScope({ ...(work.ticket ? { ticket: work.ticket } : {}), ticketId, acs: work.acs, files, config, history, planDocs, lookup, index });
}

/**
 * How a real cycle asks the Controller model (only `runCycle` passes it: `factory dry` and
 * `factory plan` spend no money, so they never ask).
 */
export interface ScopeReviewOptions {
  /** Provider keys (the editor's SecretStorage); default: the host environment's. */
  keys?: ProviderKeys;
  signal?: AbortSignal;
  logger?: Logger;
  /** A ticket the cycle will not run (its retry cap is reached): no money is spent on its plan. */
  skipTicket?: (ticketId: string) => boolean;
  /**
   * Called with the derived scope right before the model is asked: a refusal it throws (a dirty
   * host) ends the plan before any money is spent on it.
   */
  beforeReview?: (derived: DerivedScope) => Promise<void>;
}

/**
 * The Controller model's review of `derived` (spec §6-1), when `controller.model` is set: it may
 * narrow or extend the scope, within the cycle budget. A failed review leaves `derived` as it was
 * (logged; it never fails the plan) but still reports what it cost. Throws only `interrupted`.
 */
export async function reviewWorkScope(derived: DerivedScope, work: Work, files: readonly string[], config: FactoryConfig, opts: ScopeReviewOptions): Promise<{ scope: DerivedScope; controller?: ControllerSpend }> {
  const ticketId = work.ticket?.id ?? work.acs[0]?.ticketId ?? '';
  if (!config.controller.model || !work.acs.length || opts.skipTicket?.(ticketId)) return { scope: derived };
  await opts.beforeReview?.(derived);
  const review = await reviewScope({
    ticket: { id: ticketId, title: work.ticket?.title ?? '' },
    acs: work.acs,
    candidates: reviewCandidatesOf(derived),
    files,
    forbidden: derived.scope.forbidden,
    config,
    ...(opts.keys ? { keys: opts.keys } : {}),
    budgetUsd: config.killSwitch.budgetUsd,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  // reviewScope has logged why the scope was left as derived.
  const scope = review.error === undefined ? applyReview(derived, review.candidates) : derived;
  // History's `spend`: one entry per model the review's gateway metered (no agent: the Controller's own model).
  const model = config.controller.model;
  const tierOf = tierOfModel(config);
  const spend = spendFromRecords('controller', { model, tier: tierOf(model) }, review.records, tierOf);
  return { scope, controller: { costUsd: review.costUsd, spend, records: review.records } };
}

/**
 * The line `factory dry` / `factory plan` print when a Controller model is configured: they
 * show the scope as derived, without asking it (no spend outside a cycle). Undefined when off.
 */
export function controllerSkippedLine(config: FactoryConfig, command: string): string | undefined {
  const model = config.controller.model;
  return model ? `Controller model ${model}: not asked by ${command} (it spends nothing); factory run asks it to review this scope` : undefined;
}
