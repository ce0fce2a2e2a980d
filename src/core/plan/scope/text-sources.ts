/**
 * Scope evidence from the words of the ticket and its ACs (issue 15): the roadmap's ticket title,
 * the ledger rows and the roadmap's per-ticket AC rows (title, notes, evidence cells). Every token
 * that looks like a path, a file name, a dotted module, a config key or a test name is resolved
 * against the tracked files. Each clause of a text is read on its own: in a clause that says to
 * create something ("new module x.py", "add …", "신규", "추가"), a path that does not exist yet
 * becomes a new file to modify; in a clause that says to leave something alone ("x is read-only",
 * "do not modify", "읽기 전용", "수정 금지"), the files it names become read-only.
 */
import { isSafeRepoPath } from '../../paths/validate';
import type { AcceptanceCriterion, Ticket } from '../../ssot/model';
import { baseName, dirName, extension, type FileIndex, isGlob, moduleFiles } from './file-index';
import type { ScopeCandidate, ScopeClass } from './scope-types';

/** One text and where it was read: `ticket D201` or the AC id `D201::AC-3`. */
export interface ScopeText {
  ref: string;
  text: string;
}

/**
 * What the text source may ask the caller, who owns the I/O. Both are optional: without them,
 * config keys and test names are simply not resolved.
 */
export interface TextLookup {
  /** The text of a tracked config file (`config*.json|yaml|yml|toml`), undefined when unreadable. */
  configText?: (path: string) => string | undefined;
  /** Tracked test files defining a test of this name (the caller greps, e.g. `git grep -l`). */
  testsDefining?: (name: string) => readonly string[];
}

/** A bare file name matching more tracked files than this is too ambiguous to name one. */
export const MAX_SAME_NAME = 3;
/** Named files of these kinds are references to read (docs, images), not code to change. */
const READ_EXT = new Set(['md', 'markdown', 'rst', 'txt', 'adoc', 'pdf', 'png', 'jpg', 'jpeg', 'gif', 'svg']);
const CONFIG_FILE = /(?:^|\/)(?:config|settings)[^/]*\.(?:json|ya?ml|toml)$/i;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TEST_NAME = /^(?:test_[A-Za-z0-9_]+|Test[A-Z][A-Za-z0-9_]*)$/;
// `engine_report.json` is an (untracked) file name, not the config key `engine_report` → `json`.
const FILE_SUFFIX = /\.(?:py|pyi|ts|tsx|js|jsx|mjs|cjs|json|ya?ml|toml|ini|cfg|md|txt|csv|sh|go|rs|java|sql|html|css|lock|log)$/i;
// Path-ish runs of ASCII: Korean particles glued to a name (`engine_report.json에`) end the token.
const TOKEN = /[A-Za-z0-9_][A-Za-z0-9_.\-/]*(?:::[A-Za-z0-9_]+)*/g;
const URL = /[a-z][a-z0-9+.-]*:\/\/\S+/gi;
// A clause ends at `;`, a line end, a sentence end or a contrast ("x is new, but y is read-only"):
// not at commas, which list names under one verb ("engine/a.py, engine/b.py are read-only").
const CLAUSE = /[;\n|。]|\.\s|\s(?:but|however|while|except)\s/i;
/** Words saying the clause's files are to be created (English and Korean). */
const CREATE_WORDS = /\b(?:new|add(?:s|ed|ing)?|creat(?:e|es|ed|ing))\b|신규|새\s*(?:파일|모듈)|새로\s*(?:만들|작성|생성|추가)|추가|생성|작성/i;
/** Words saying the clause's files are only to be read (English and Korean). */
const READONLY_WORDS =
  /\bread[- ]?only\b|\b(?:do not|don't|must not|should not|never)\s+(?:be\s+)?(?:modif|chang|edit|touch|writ)\w*|\b(?:unchanged|untouched)\b|읽기\s*전용|(?:수정|변경)\s*(?:금지|불가)|(?:수정|변경)하지\s*(?:말|않)/i;

/** True for a pytest / unittest test name (`test_round_trip_pnl`, `TestFees`): what `testsDefining` is asked about. */
export function isTestName(token: string): boolean {
  return TEST_NAME.test(token);
}

/** The texts of the work: the ticket title, then each AC's ledger row and roadmap row. */
export function scopeTexts(ticket: Ticket | undefined, acs: readonly AcceptanceCriterion[]): ScopeText[] {
  const out: ScopeText[] = [];
  if (ticket?.title) out.push({ ref: `ticket ${ticket.id}`, text: ticket.title });
  for (const ac of acs) {
    // The same AC may be written twice (ledger row and roadmap table row) with different words.
    const rows = [ac, ...(ticket?.acs ?? []).filter((r) => r.id === ac.id && r !== ac)];
    const text = rows.flatMap((r) => [r.title, r.notes ?? '', r.evidence ?? '']).join('\n');
    out.push({ ref: ac.id, text });
  }
  return out;
}

/** The distinct name-like tokens of a text, `path::function` reduced to its path. */
export function textTokens(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.replace(URL, ' ').matchAll(TOKEN)) {
    const t = (m[0].split('::')[0] ?? '').replace(/^\.\//, '').replace(/[.\-/]+$/, '');
    if (t.length > 1) found.add(t);
  }
  return [...found];
}

/** A named file is modified unless it is documentation or an image, which is read. */
export function namedClass(p: string): ScopeClass {
  return READ_EXT.has(extension(baseName(p))) ? 'readonly' : 'modify';
}

interface Hit {
  paths: string[];
  detail?: string;
  cls?: ScopeClass;
}

/** What resolving one text needs: the index, the caller's look-ups, config texts read so far. */
interface Resolver {
  index: FileIndex;
  lookup: TextLookup;
  /** Tracked config files, listed on first use. */
  configs?: string[];
  texts: Map<string, string>;
}

/** Config files whose text mentions every segment of `key` (YAML nests, so not the dotted form). */
function configFilesWith(r: Resolver, key: string): string[] {
  const read = r.lookup.configText;
  // Two-letter segments at least: `e.g` and `i.e` are not config keys.
  const segments = key.split('.');
  if (!read || FILE_SUFFIX.test(key) || segments.some((s) => s.length < 2)) return [];
  r.configs ??= r.index.sorted.filter((p) => CONFIG_FILE.test(p));
  return r.configs.filter((p) => {
    if (!r.texts.has(p)) r.texts.set(p, read(p) ?? '');
    const text = r.texts.get(p) ?? '';
    return segments.every((s) => new RegExp(`\\b${s}\\b`).test(text));
  });
}

/** A dotted name: a file name, then the longest module prefix (`a.b.c` → `a/b/c.py`, `a/b.py`), then a config key. */
function resolveDotted(token: string, r: Resolver): Hit | undefined {
  const { index } = r;
  const same = index.byBase.get(token) ?? [];
  if (same.length > 0 && same.length <= MAX_SAME_NAME) {
    return { paths: [...same], ...(same.length > 1 ? { detail: `one of ${same.length} files called ${token}` } : {}) };
  }
  const segments = token.split('.');
  if (!segments.every((s) => IDENT.test(s))) return undefined;
  for (let n = segments.length; n >= 2; n--) {
    const paths = moduleFiles(index, segments.slice(0, n).join('/'));
    if (paths.length > 0 && paths.length <= MAX_SAME_NAME) return { paths, detail: `module ${segments.slice(0, n).join('.')}` };
  }
  const configs = configFilesWith(r, token);
  return configs.length ? { paths: configs, detail: `config key ${token}`, cls: 'readonly' } : undefined;
}

/** The tracked files one token names, if any. */
function resolveToken(token: string, r: Resolver): Hit | undefined {
  const { index, lookup } = r;
  if (index.files.has(token)) return { paths: [token] };
  if (token.includes('/')) {
    if (index.dirs.has(token)) return { paths: [`${token}/**`], detail: 'folder' };
    const paths = moduleFiles(index, token);
    return paths.length === 1 ? { paths } : undefined;
  }
  if (token.includes('.')) return resolveDotted(token, r);
  if (isTestName(token) && lookup.testsDefining) {
    const paths = [...lookup.testsDefining(token)].filter((p) => index.files.has(p));
    return paths.length ? { paths, detail: `test ${token}` } : undefined;
  }
  return undefined;
}

/** One clause of a text, with what its words say about the files it names. */
export interface Clause {
  text: string;
  /** It says to create something: names of files that do not exist yet count. */
  create: boolean;
  /** It says to leave something alone: the files it names are only read. */
  readonly: boolean;
}

/** The clauses of a text (see CLAUSE), each with its create / read-only words. */
export function clauses(text: string): Clause[] {
  return text
    .split(CLAUSE)
    .filter((t) => t.trim().length > 0)
    .map((t) => ({ text: t, create: CREATE_WORDS.test(t), readonly: READONLY_WORDS.test(t) }));
}

/**
 * The file `token` names if it is one to be created: not tracked, a safe path with a file
 * extension, in a folder that holds tracked files. A bare name is a top-level file, and only
 * where top-level files of its kind already live: `setup.cfg` beside `pyproject.toml` may be new,
 * but `engine_report.json` in a repository without top-level JSON is more likely an output file
 * somewhere else than a file to create at the root.
 */
export function newFilePath(token: string, index: FileIndex): string | undefined {
  if (index.files.has(token) || index.dirs.has(token) || isGlob(token) || !FILE_SUFFIX.test(token) || !isSafeRepoPath(token)) return undefined;
  const dir = dirName(token);
  if (dir) return index.dirs.has(dir) ? token : undefined;
  const ext = extension(token);
  return [...index.files].some((p) => !p.includes('/') && extension(p) === ext) ? token : undefined;
}

/** The candidates of one token of a clause: the tracked files it names, or the new file it names. */
function tokenCandidates(token: string, clause: Clause, ref: string, r: Resolver): ScopeCandidate[] {
  const hit = resolveToken(token, r);
  if (!hit) {
    const created = clause.create ? newFilePath(token, r.index) : undefined;
    return created ? [{ path: created, cls: 'modify', reason: `named in ${ref} (new file)`, source: 'text' }] : [];
  }
  const detail = hit.detail ? ` (${hit.detail})` : '';
  if (clause.readonly) {
    return hit.paths.map((p) => ({ path: p, cls: 'readonly', reason: `named read-only in ${ref}${detail}`, source: 'text', explicit: true }));
  }
  return hit.paths.map((p) => ({ path: p, cls: hit.cls ?? namedClass(p), reason: `named in ${ref}${detail}`, source: 'text' }));
}

/**
 * Candidates named in the texts, clause by clause: each resolved token gives its files, class
 * `modify` (code, config, folders named by path) or `readonly` (docs, images, files holding a
 * named config key, anything in a read-only clause), reason `named in <ref>` or `named read-only
 * in <ref>` with what the name was taken as (`module a.b`, `config key x.y` …); in a clause that
 * creates, an untracked path that may be created is `modify`, reason `named in <ref> (new file)`.
 */
export function textCandidates(texts: readonly ScopeText[], index: FileIndex, lookup: TextLookup = {}): ScopeCandidate[] {
  const out: ScopeCandidate[] = [];
  const r: Resolver = { index, lookup, texts: new Map() };
  const seen = new Set<string>();
  for (const { ref, text } of texts) {
    for (const clause of clauses(text)) {
      for (const c of textTokens(clause.text).flatMap((token) => tokenCandidates(token, clause, ref, r))) {
        // Ledger and roadmap rows often name one file twice (`x.py`, `scripts/x.py`): one candidate.
        if (seen.has(`${c.path}\n${c.reason}`)) continue;
        seen.add(`${c.path}\n${c.reason}`);
        out.push(c);
      }
    }
  }
  return out;
}
