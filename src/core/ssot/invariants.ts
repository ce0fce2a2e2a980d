import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { runGit, spawnGit, unsafeDirectoryError, type GitResult } from '../git/git';
import { FactoryError, errorMessage } from '../util/errors';
import { parseLedger } from './ledger';
import type { AcceptanceCriterion, Diagnostic, SsotIndex } from './model';
import { isEmptyEvidence } from './status-words';

/**
 * The SSOT invariants of the workflow spec, as diagnostics:
 * - `ssot.duplicate-ac`: an AC id appears twice (ledger: error; a roadmap AC table: warning);
 * - `ssot.done-without-evidence`: DONE while the evidence cell is empty/NONE/— ("Evidence 없으면
 *   DONE 주장 금지");
 * - `ssot.progress-mismatch`: the roadmap's DONE/TOTAL for a ticket differs from the ledger's rows;
 * - `ssot.deleted-ac` ({@link findDeletedAcs}): a ledger row present at git HEAD is gone ("AC 삭제 = 금지").
 * Unknown status words are reported by the parsers (`ssot.unknown-status`).
 */
export function checkInvariants(index: Omit<SsotIndex, 'diagnostics'>, opts: { hasLedger: boolean }): Diagnostic[] {
  // Arrays are concatenated with loops, not `push(...x)`: a hostile document can produce more
  // diagnostics than a call's argument limit (SEC-18).
  const out: Diagnostic[] = duplicateAcs(index.ledger, 'error');
  for (const t of index.tickets) {
    append(out, duplicateAcs(t.acs.filter((a) => a.origin === 'table'), 'warning'));
  }
  for (const ac of allEvidenceAcs(index)) {
    if (ac.status === 'DONE' && ac.evidence !== undefined && isEmptyEvidence(ac.evidence)) {
      out.push({
        file: ac.source.file,
        line: ac.source.line,
        severity: 'error',
        code: 'ssot.done-without-evidence',
        message: `${ac.id} is DONE but its evidence is "${ac.evidence}"`,
      });
    }
  }
  if (opts.hasLedger) append(out, progressMismatches(index));
  return out;
}

/** `to.push(...from)` without the argument-count limit. */
export function append<T>(to: T[], from: readonly T[]): void {
  for (const x of from) to.push(x);
}

/** ACs that carry an evidence column: ledger rows and roadmap AC-table rows. */
function* allEvidenceAcs(index: Omit<SsotIndex, 'diagnostics'>): Generator<AcceptanceCriterion> {
  yield* index.ledger;
  for (const t of index.tickets) for (const a of t.acs) if (a.origin === 'table') yield a;
}

function duplicateAcs(acs: readonly AcceptanceCriterion[], severity: 'error' | 'warning'): Diagnostic[] {
  const out: Diagnostic[] = [];
  // Same id in two documents is expected (V2 table and ledger); only a repeat inside one is not.
  const seenByFile = new Map<string, Map<string, AcceptanceCriterion>>();
  for (const ac of acs) {
    let seen = seenByFile.get(ac.source.file);
    if (!seen) seenByFile.set(ac.source.file, (seen = new Map()));
    const key = ac.id;
    const first = seen.get(key);
    if (first) {
      out.push({
        file: ac.source.file,
        line: ac.source.line,
        severity,
        code: 'ssot.duplicate-ac',
        message: `duplicate AC id ${ac.id} (first at line ${first.source.line})`,
      });
    } else {
      seen.set(key, ac);
    }
  }
  return out;
}

function progressMismatches(index: Omit<SsotIndex, 'diagnostics'>): Diagnostic[] {
  const counts = new Map<string, { rows: number; done: number }>();
  for (const ac of index.ledger) {
    let c = counts.get(ac.ticketId);
    if (!c) counts.set(ac.ticketId, (c = { rows: 0, done: 0 }));
    c.rows++;
    if (ac.status === 'DONE') c.done++;
  }
  const out: Diagnostic[] = [];
  for (const t of index.tickets) {
    if (t.done === undefined || t.total === undefined) continue;
    const c = counts.get(t.id) ?? { rows: 0, done: 0 };
    if (c.rows === t.total && c.done === t.done) continue;
    out.push({
      file: t.source.file,
      line: t.source.line,
      severity: 'warning',
      code: 'ssot.progress-mismatch',
      message: `${t.id} is ${t.done}/${t.total} in the roadmap but the ledger has ${c.done} DONE of ${c.rows} rows`,
    });
  }
  return out;
}

export interface DeletedAcsOptions {
  signal?: AbortSignal;
  /** The ledger's current text (an unsaved editor buffer); read from disk when absent. */
  currentText?: string;
}

/**
 * SEC-30: compare the ledger with its version at git HEAD and report every AC id that HEAD has
 * and the working copy does not. Uses `git cat-file` (plumbing: no textconv, filters or hooks).
 * Returns [] when `root` is not in a git repository or the ledger is not committed yet.
 */
export async function findDeletedAcs(root: string, ledgerRelPath: string, opts: DeletedAcsOptions = {}): Promise<Diagnostic[]> {
  const rel = ledgerRelPath.split(path.sep).join('/');
  const head = await gitShowHead(root, rel, opts.signal);
  if (head === undefined) return [];
  const current = opts.currentText ?? (await fs.readFile(path.join(root, ledgerRelPath), { encoding: 'utf8', signal: opts.signal }));
  const before = parseLedger(head, rel);
  const now = parseLedger(current, rel);
  const present = new Set(now.acs.map((a) => a.id));
  const line = (now.headerLine ?? 0) + 1;
  const out: Diagnostic[] = [];
  for (const ac of before.acs) {
    if (present.has(ac.id)) continue;
    present.add(ac.id); // report a duplicated HEAD row once
    out.push({
      file: rel,
      line,
      severity: 'error',
      code: 'ssot.deleted-ac',
      message: `${ac.id} (line ${ac.source.line} at HEAD) was deleted from the ledger; ACs are never deleted (mark them MOVED_TO instead)`,
    });
  }
  return out;
}

/** `git cat-file blob HEAD:./<rel>` in `root` (through src/core/git); undefined when there is no such blob or no repo. */
async function gitShowHead(root: string, rel: string, signal?: AbortSignal): Promise<string | undefined> {
  let r: GitResult;
  try {
    r = await catFile(root, `HEAD:./${rel}`, signal);
  } catch (err) {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error(errorMessage(signal.reason));
    // Another user's repository: the refusal and its advice. git missing: the check cannot run.
    if (err instanceof FactoryError && err.code === 'git-unsafe-directory') throw err;
    throw new Error(`git cannot run (is it installed?); cannot compare the ledger with HEAD: ${errorMessage(err)}`);
  }
  // Not a repo, no HEAD yet, path not committed: nothing to compare with.
  return r.code === 0 ? r.stdout.toString('utf8') : undefined;
}

/**
 * `git cat-file blob <spec>` as runGit would run it (the same hardening: spawnGit), without
 * simple-git, whose 125 KB were a tenth of `factory status`'s start-up. Whatever spawnGit refuses
 * (no folder, an unreadable repository config, no git …) goes through runGit itself, so those
 * answers stay exactly runGit's.
 */
async function catFile(root: string, spec: string, signal?: AbortSignal): Promise<GitResult> {
  const args = ['cat-file', 'blob', spec];
  let child;
  try {
    child = await spawnGit(root, args, signal);
  } catch (err) {
    if (signal?.aborted) throw err;
    return runGit(root, args, signal ? { signal } : {});
  }
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c ?? -1));
  });
  const r = { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') };
  if (r.code !== 0) {
    const unsafe = unsafeDirectoryError(r.stderr, root);
    if (unsafe) throw unsafe;
  }
  return r;
}
