import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import { SSOT_DEFAULTS } from '../../config/schema';
import { spawnGit, unsafeDirectoryError } from '../../git/git';
import { passRunsOf, type PassRun } from './history-evidence';
import type { ScopeCandidate } from './scope-types';

/**
 * Scope candidates from the repository's history (issue 15, item 1): the files earlier commits
 * changed for the same ticket or one of its ACs, and the files the ticket's PASS evidence runs
 * changed. One `git log` process, streamed, whatever the history's length: git filters the commits
 * by the ids (`--grep`, one ERE per id that already demands word boundaries: `D201` is not
 * `D2010`), and `namedIds` checks the few commits that come back again, whatever git's regex library.
 */

export interface HistoryRequest {
  /** Repository root. */
  root: string;
  ticketId: string;
  /** The ticket's AC ids (`D201::AC-2`); a commit naming one is preferred in the reason. */
  acIds: string[];
  /** Repo-relative evidence folder (`config.paths.evidence`); default `logs/evidence`. */
  evidenceDir?: string;
  /** Tracked files now: a candidate not in it (deleted or renamed since) is dropped. Without it the file system is asked. */
  files?: ReadonlySet<string>;
  /**
   * Globs of the Controller's own records, never candidates even when a commit changed them
   * (derive.ts passes `ssotPaths(config)` + `<paths.evidence>/**` + `<paths.autopilot>/**`).
   * Default: the default SSOT documents, `<evidenceDir>/**`, `logs/autopilot/**`, `.factory/**`.
   */
  controllerFiles?: readonly string[];
  signal?: AbortSignal;
}

/** One commit as `git log` streamed it. */
interface LoggedCommit {
  sha: string;
  body: string;
  files: string[];
}

/** Newest matching commits read: older history adds little and would only cost time. */
export const MAX_HISTORY_COMMITS = 5000;
/** Bytes of `git log` output read at most (commit messages can be long); the child is then stopped. */
const MAX_LOG_BYTES = 32 * 1024 * 1024;
/** Characters that continue an id: `D201` must not match in `D2010`, `xD201` or `D201-2`. */
const ID_CHAR = 'A-Za-z0-9_-';

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** POSIX ERE escape (git's `-E`): `]` and `}` are literal there unless opened, and may not be escaped. */
const escapeEre = (s: string) => s.replace(/[.[()*+?{|^$\\]/g, '\\$&');

/**
 * An ERE that finds `text` as a whole word, the same rule as `namedIds`, so git itself leaves out
 * `D2010` when asked for `D201` and computes no diff for it. (git matches message lines one by one
 * and, under LC_ALL=C, treats every non-ASCII byte as a boundary, as `ID_CHAR` does.)
 */
export function wordEre(text: string): string {
  return `(^|[^${ID_CHAR}])${escapeEre(text)}([^${ID_CHAR}]|$)`;
}

/**
 * The ids of `ids` that `text` names as whole words, in `ids` order. Longer ids are tried first so
 * `D201::AC-2` is found as itself, not as `D201`.
 */
export function namedIds(text: string, ids: readonly string[]): string[] {
  const alts = [...new Set(ids)].filter(Boolean).sort((a, b) => b.length - a.length).map(escapeRe);
  if (!alts.length) return [];
  const re = new RegExp(`(?<![${ID_CHAR}])(?:${alts.join('|')})(?![${ID_CHAR}])`, 'g');
  const found = new Set(Array.from(text.matchAll(re), (m) => m[0]));
  return ids.filter((id, i) => found.has(id) && ids.indexOf(id) === i);
}

/** Every `Factory-Run: <run id>` trailer value in a commit message. */
function runTrailers(body: string): string[] {
  return Array.from(body.matchAll(/^Factory-Run:[ \t]*(\S+)[ \t]*$/gm), (m) => m[1]);
}

/**
 * Streams `git log -z --name-only` of the commits whose message names one of `patterns` as a
 * whole word (`wordEre`), newest first, calling `onCommit` for each. A random marker starts every commit,
 * so no file name or message can fake one. Resolves when git exits (an empty list when the
 * repository has no commits); rejects with the abort error when `signal` fires (the child is killed).
 */
export function streamLog(root: string, patterns: readonly string[], onCommit: (c: LoggedCommit) => void, signal?: AbortSignal): Promise<void> {
  const marker = `\x01${randomBytes(8).toString('hex')}`;
  const args = [
    // src/core/git's hardening (log.showSignature=false among it: a signed history starts no gpg).
    'log', '-z', '--name-only', '--no-renames', '--no-ext-diff', '--no-color', '--encoding=UTF-8',
    `--max-count=${MAX_HISTORY_COMMITS}`, '--extended-regexp', ...patterns.map((p) => `--grep=${wordEre(p)}`),
    `--format=tformat:${marker}%H%x00%B`, '--',
  ];
  return spawnGit(root, args, signal).then((child) => new Promise<void>((resolve, reject) => {
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-4096)));
    let cur: LoggedCommit | undefined;
    let expect: 'body' | 'first-file' | 'file' = 'file';
    let rest = Buffer.alloc(0);
    let bytes = 0;
    const token = (t: string) => {
      if (t.startsWith(marker)) {
        if (cur) onCommit(cur);
        cur = { sha: t.slice(marker.length), body: '', files: [] };
        expect = 'body';
      } else if (!cur) return;
      else if (expect === 'body') {
        cur.body = t;
        expect = 'first-file';
      } else {
        // The file list follows the message after one newline.
        const f = expect === 'first-file' ? t.replace(/^\n/, '') : t;
        expect = 'file';
        if (f) cur.files.push(f);
      }
    };
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      let buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
      for (let nul = buf.indexOf(0); nul >= 0; nul = buf.indexOf(0)) {
        token(buf.subarray(0, nul).toString('utf8'));
        buf = buf.subarray(nul + 1);
      }
      rest = Buffer.from(buf);
      if (bytes > MAX_LOG_BYTES) child.kill();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      // Another user's repository: the refusal with its advice, never "no history".
      const unsafe = code !== 0 ? unsafeDirectoryError(stderr, root) : null;
      if (unsafe) return reject(unsafe);
      if (cur) onCommit(cur);
      resolve();
    });
  }));
}

/** The default globs of the Controller's own records (see `HistoryRequest.controllerFiles`). */
function defaultControllerFiles(evidenceDir: string): string[] {
  return [SSOT_DEFAULTS.roadmap, SSOT_DEFAULTS.ledger, SSOT_DEFAULTS.rules, `${evidenceDir}/**`, 'logs/autopilot/**', '.factory/**'];
}

/** Keeps the paths that exist now: in `files` when given, else on disk (lstat, so a dangling symlink counts). */
async function existing(root: string, paths: Iterable<string>, files?: ReadonlySet<string>): Promise<Set<string>> {
  const all = [...paths];
  if (files) return new Set(all.filter((p) => files.has(p)));
  const ok = await Promise.all(all.map((p) => fs.promises.lstat(path.join(root, p)).then(() => true, () => false)));
  return new Set(all.filter((_, i) => ok[i]));
}

/** What the log yields, before existence is checked: per path, its newest commit and how many named the ids. */
interface Gathered {
  history: Map<string, { sha: string; ids: string[]; count: number }>;
  /** Run id → files its PASS commit(s) changed. */
  runFiles: Map<string, Set<string>>;
}

/** One pass over the log: the history candidates and the file lists of the PASS runs' commits. */
async function gather(req: HistoryRequest, runs: readonly PassRun[], isRecord: (p: string) => boolean): Promise<Gathered> {
  const out: Gathered = { history: new Map(), runFiles: new Map() };
  const wanted = new Set(runs.map((r) => r.runId));
  const ids = [req.ticketId, ...req.acIds];
  const patterns = [...new Set([...ids, ...runs.map((r) => `Factory-Run: ${r.runId}`)])];
  await streamLog(req.root, patterns, (c) => {
    const files = c.files.filter((f) => !isRecord(f));
    if (!files.length) return;
    const named = namedIds(c.body, ids);
    if (named.length) {
      const acs = named.filter((id) => id !== req.ticketId);
      const forIds = acs.length ? acs : [req.ticketId];
      for (const f of files) {
        const h = out.history.get(f);
        if (h) h.count++;
        else out.history.set(f, { sha: c.sha, ids: forIds, count: 1 });
      }
    }
    for (const run of runTrailers(c.body).filter((r) => wanted.has(r))) {
      const set = out.runFiles.get(run) ?? new Set<string>();
      files.forEach((f) => set.add(f));
      out.runFiles.set(run, set);
    }
  }, req.signal);
  return out;
}

/**
 * History and evidence candidates for one ticket, sorted by source, then path (`modify`):
 * - `history`: each file (that still exists, not a Controller record) changed by a commit whose
 *   message names the ticket id or one of `acIds` as a whole word; reason `changed by <sha7> for
 *   <AC ids, else the ticket id>` of the newest such commit, plus `(+N earlier commits)`;
 * - `evidence`: each file the commit of one of the ticket's PASS evidence runs changed (found by
 *   its `Factory-Run:` trailer — the manifest records only a count of changed files); reason
 *   `in the evidence of <run id> (<AC ids of the run>)`.
 * Rejects with the abort error when `signal` fires.
 */
export async function historyCandidates(req: HistoryRequest): Promise<ScopeCandidate[]> {
  const evidenceDir = req.evidenceDir ?? 'logs/evidence';
  const isRecord = picomatch([...(req.controllerFiles ?? defaultControllerFiles(evidenceDir))], { dot: true });
  const runs = await passRunsOf(req.root, evidenceDir, req.ticketId);
  const g = await gather(req, runs, isRecord);
  const live = await existing(req.root, new Set([...g.history.keys(), ...[...g.runFiles.values()].flatMap((s) => [...s])]), req.files);
  const out: ScopeCandidate[] = [];
  for (const [p, h] of g.history) {
    if (!live.has(p)) continue;
    const more = h.count > 1 ? ` (+${h.count - 1} earlier commit${h.count > 2 ? 's' : ''})` : '';
    out.push({ path: p, cls: 'modify', reason: `changed by ${h.sha.slice(0, 7)} for ${h.ids.join(', ')}${more}`, source: 'history' });
  }
  for (const run of runs) {
    for (const p of g.runFiles.get(run.runId) ?? []) {
      if (live.has(p)) out.push({ path: p, cls: 'modify', reason: `in the evidence of ${run.runId} (${run.acIds.join(', ')})`, source: 'evidence' });
    }
  }
  const order = (c: ScopeCandidate) => (c.source === 'history' ? 0 : 1);
  return out.sort((a, b) => order(a) - order(b) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) || (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0));
}
