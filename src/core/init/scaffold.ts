import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { CONFIG_SCHEMA_FILE, configJsonSchemaText } from '../config/config-json-schema';
import { CONFIG_FILE } from '../config/load';
import { defaultConfig, SSOT_DEFAULTS } from '../config/schema';
import { atomicWrite } from '../util/atomic-write';
import { FactoryError } from '../util/errors';
import { JUSTFILE_NAMES, justfileText } from './justfile';
import { detectToolchain, type Detection } from './toolchain';

/** One file `factory init` creates: repo-relative path (forward slashes) and its content. */
export interface ScaffoldFile {
  path: string;
  content: string;
}

export interface ScaffoldOptions {
  /** Shown in the documents' titles; defaults to the folder name. */
  projectName?: string;
  /** The date written into the documents (injected so tests are deterministic). */
  now?: Date;
  /**
   * The repository's toolchain (`detectToolchain`): its Gate stages and guards are configured.
   * Absent: no stage and no guard (nothing is assumed about a project that was not looked at).
   */
  detection?: Pick<Detection, 'stages' | 'guards'>;
}

/**
 * The files of a fresh factory workspace: the config (with `$schema` pointing at a copy of the
 * schema next to it, so any editor validates it offline), and the three SSOT documents in the
 * spec's formats — phase tables with DONE/TOTAL, the ledger's columns, the rules — each holding
 * one example ticket and AC to edit.
 */
export function scaffoldFiles(options: ScaffoldOptions = {}): ScaffoldFile[] {
  const name = options.projectName ?? 'my-project';
  const now = options.now ?? new Date();
  const date = now.toISOString().slice(0, 10);
  const timestamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const defaults = defaultConfig();
  const config = {
    $schema: `./${CONFIG_SCHEMA_FILE}`,
    scope: { modify: defaults.scope.modify, readonly: [], forbidden: defaults.scope.forbidden, tickets: [] },
    // Only commands the repository has (detectToolchain): a stage or guard whose script is missing
    // would be refused at plan time anyway. The spec's guards are configured when their scripts exist.
    gate: { runIn: defaults.gate.runIn, stages: options.detection?.stages ?? [] },
    guards: options.detection?.guards ?? [],
    killSwitch: defaults.killSwitch,
  };
  const configDir = path.posix.dirname(CONFIG_FILE);
  return [
    { path: CONFIG_FILE, content: prettyJson(config) + '\n' },
    { path: `${configDir}/${CONFIG_SCHEMA_FILE}`, content: configJsonSchemaText() },
    { path: SSOT_DEFAULTS.roadmap, content: roadmapTemplate(name, date) },
    { path: SSOT_DEFAULTS.ledger, content: ledgerTemplate(timestamp, date) },
    { path: SSOT_DEFAULTS.rules, content: rulesTemplate(name, date) },
  ];
}

/** What `factory init` did: the files written, the justfile it left alone, what it detected and why. */
export interface InitReport {
  written: string[];
  /** The existing justfile (any name `just` reads) that was kept, or null when init wrote one. */
  justfileKept: string | null;
  detection: Detection;
}

async function exists(file: string): Promise<boolean> {
  try {
    await fsp.lstat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return false;
  }
}

/**
 * Scaffold a factory workspace in `root` (created if missing), fitted to the repository: Gate
 * stages and guards from its toolchain, and a justfile with the spec's recipes unless it has one
 * (kept as it is, and said so). Refuses — writing nothing — when any config or SSOT file already
 * exists, and names them; every file is written atomically.
 */
export async function initRepository(root: string, options: Omit<ScaffoldOptions, 'detection'> & { signal?: AbortSignal } = {}): Promise<InitReport> {
  const detection = detectToolchain(root);
  const files = scaffoldFiles({ projectName: options.projectName ?? path.basename(path.resolve(root)), now: options.now, detection });
  const existing: string[] = [];
  for (const f of files) if (await exists(path.join(root, f.path))) existing.push(f.path);
  if (existing.length > 0) {
    throw new FactoryError(`refusing to overwrite existing file(s): ${existing.join(', ')}`, 'init.exists');
  }
  let justfileKept: string | null = null;
  for (const name of JUSTFILE_NAMES) if (justfileKept === null && (await exists(path.join(root, name)))) justfileKept = name;
  if (justfileKept === null) files.push({ path: 'justfile', content: justfileText(detection.stages.map((s) => s.name)) });
  for (const f of files) {
    options.signal?.throwIfAborted();
    const target = path.join(root, f.path);
    await fsp.mkdir(path.dirname(target), { recursive: true });
    await atomicWrite(target, f.content);
  }
  const ignored = await ensureRecordsIgnored(root, defaultConfig().paths.autopilot);
  return { written: [...files.map((f) => f.path), ...(ignored ? ['.gitignore'] : [])], justfileKept, detection };
}

/** The comment above the lines `ensureRecordsIgnored` adds to .gitignore. */
const IGNORE_HEADER = "# Agentic Factory: the Controller's local records (a cycle never commits them)";

/**
 * The `.gitignore` lines for the records a run leaves under `autopilot` and no commit takes: the
 * gate cache, the Auditor's reports, the cycle state of every slot (`cycle_state.json`,
 * `cycle_state.<k>.json` of a parallel run), the stop requests, ADJUST's backups, the evidence
 * index. Not history.jsonl, plan.json or cost_summary_*.json: a PASS commit holds those. A
 * `.gitignore` that already has the older `cycle_state.json` line keeps it; the glob is added.
 */
export function recordIgnoreLines(autopilot: string): string[] {
  const ap = '/' + autopilot.replace(/^\.?\/+/, '').replace(/\/+$/, '');
  return [`${ap}/gate_cache/`, `${ap}/audits/`, `${ap}/cycle_state*.json`, `${ap}/stop_requests/`, `${ap}/.adjust-*/`, `${ap}/evidence_index.json`];
}

/**
 * Add the record lines (`recordIgnoreLines`) that `root/.gitignore` lacks, creating the file if
 * needed; a line already there (with or without its leading slash) is never added twice. Atomic.
 * @returns whether the file was written.
 */
export async function ensureRecordsIgnored(root: string, autopilot: string): Promise<boolean> {
  const file = path.join(root, '.gitignore');
  let text = '';
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const have = new Set(text.split(/\r?\n/).map((l) => l.trim().replace(/^\//, '')));
  const missing = recordIgnoreLines(autopilot).filter((l) => !have.has(l.replace(/^\//, '')));
  if (missing.length === 0) return false;
  const sep = text === '' ? '' : text.endsWith('\n') ? '\n' : '\n\n';
  const header = have.has(IGNORE_HEADER) ? [] : [IGNORE_HEADER];
  await atomicWrite(file, `${text}${sep}${[...header, ...missing].join('\n')}\n`);
  return true;
}

/** `initRepository`, returning only the repo-relative paths written (the extension's command). */
export async function initWorkspace(root: string, options: Omit<ScaffoldOptions, 'detection'> & { signal?: AbortSignal } = {}): Promise<string[]> {
  return (await initRepository(root, options)).written;
}

/**
 * JSON for people to edit: two-space indentation like JSON.stringify, but an array of plain
 * values (a command's argv, a glob list) stays on one line when it fits.
 */
export function prettyJson(value: unknown, indent = ''): string {
  const inner = indent + '  ';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const flat = `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
    if (value.every((v) => v === null || typeof v !== 'object') && indent.length + flat.length <= 100) return flat;
    return `[\n${value.map((v) => inner + prettyJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${prettyJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

function roadmapTemplate(name: string, date: string): string {
  return `# D_ROADMAP.md — ${name}

**Project:** ${name}
**Version:** 0.1
**Date:** ${date}

> **This file is the single SSOT entry point** for goals and status.
> The AC queue is ${SSOT_DEFAULTS.ledger}; the rules are ${SSOT_DEFAULTS.rules}.

---

## SSOT declaration

| Rank | Document | Role |
|---|---|---|
| 1 | ${SSOT_DEFAULTS.rules} | Constitution: the rules every Worker and Auditor follows |
| 2 | **D_ROADMAP.md (this file)** | Process SSOT: tickets, status, DONE/TOTAL |
| 3 | ${SSOT_DEFAULTS.ledger} | Factory queue: ACs in the order the Controller works them |

---

## Phase summary

### Phase 1: First milestone

| Step | Goal | DONE/TOTAL | Status |
|---|---|---|---|
| D100 | Describe the first ticket's goal | 0/1 | OPEN |

---

## SSOT invariants

1. **One roadmap** (this file); no forks.
2. **No AC is ever deleted** (add only).
3. **No DONE without evidence** (Gate PASS + an evidence run under logs/evidence/).
`;
}

function ledgerTemplate(timestamp: string, date: string): string {
  return `generated_at: ${timestamp}
updated_at: ${date}
sources: D_ROADMAP.md, logs/evidence/, ${SSOT_DEFAULTS.rules}
rules: evidence-driven done (gate + artifacts), status=OPEN/DONE/LOST_EVIDENCE
queue_policy: SEQUENTIAL_QUEUE — the Controller works the first OPEN row, top to bottom.
| AC_ID | TITLE | STAGE | STATUS | CANONICAL_EVIDENCE | LAST_COMMIT | DUP_GROUP_KEY | NOTES |
|---|---|---|---|---|---|---|---|
| D100::AC-1 | Describe the first acceptance criterion | D100 | OPEN | NONE | UNKNOWN | — | — |
`;
}

function rulesTemplate(name: string, date: string): string {
  return `# SSOT Rules — ${name} (constitution)

**Version:** 0.1
**Date:** ${date}
**Status:** ENFORCED

> Conflict resolution: SSOT_RULES.md > D_ROADMAP.md > ${SSOT_DEFAULTS.ledger}.
> The Worker and the Auditor are given this file with every plan.

---

## 1. Single sources of truth

- \`D_ROADMAP.md\` is the only place tickets and their status live.
- \`${SSOT_DEFAULTS.ledger}\` is the queue. Rows are only ever added; an AC is never deleted.
- The Worker never edits the SSOT documents; the Controller changes status, evidence and commit
  cells only, after the Gate passes.

## 2. Scope

- A Worker changes only the files its plan lists under \`scope.modify\`. Files under
  \`scope.readonly\` may be read, never changed. Anything else fails the cycle.

## 3. Gate and evidence

- Gate = preflight guards (fail fast) → doctor → fast → regression. All stages must PASS.
- No DONE without evidence under \`logs/evidence/<run_id>/\`.
- Never weaken a test, skip a Gate stage or write PASS for a failed stage.
`;
}
