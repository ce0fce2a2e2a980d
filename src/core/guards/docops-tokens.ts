import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import picomatch from 'picomatch';
import type { FactoryConfig } from '../config/schema';
import type { GuardFinding, GuardResult } from './guard-model';

/** Folders never scanned: VCS data, dependencies, caches. */
const SKIP_DIRS = new Set(['.git', 'node_modules', '__pycache__', '.pytest_cache', '.venv', 'venv', '.mypy_cache', '.factory-cache']);
/** A document larger than this is not a document a person maintains; it is reported, not scanned. */
const MAX_FILE_BYTES = 8 * 1024 * 1024;

export type DocOpsTokenConfig = FactoryConfig['docops'];

function* walk(root: string, rel = ''): Generator<string> {
  let dirents: fs.Dirent[];
  try {
    dirents = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
  } catch {
    return;
  }
  for (const d of dirents) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) {
      if (!SKIP_DIRS.has(d.name)) yield* walk(root, r);
    } else if (d.isFile()) {
      // Symlinks are not followed: a link could point the scan at any file on the host.
      yield r;
    }
  }
}

/**
 * The "DocOps Token" guard (spec §5-1): forbidden tokens (`docops.forbiddenTokens`, matched as
 * literal, case-sensitive text) in the documents matched by `docops.include`. A hit in a path
 * matched by `docops.allowlist` is tolerated. `strict: true` → any hit FAILs; otherwise hits are
 * warnings (WARN). Every hit is reported with its file, line and column. `skip`: paths not read at
 * all (the Controller's own records: a FAIL's evidence quotes the token it failed on).
 */
export function scanForbiddenTokens(root: string, cfg: DocOpsTokenConfig, skip: (rel: string) => boolean = () => false): GuardResult {
  const t0 = performance.now();
  const name = 'DocOps Token';
  const tokens = cfg.forbiddenTokens.filter((t) => t.length > 0);
  if (tokens.length === 0) return { name, source: 'builtin', status: 'PASS', findings: [], durationMs: performance.now() - t0 };
  const included = picomatch(cfg.include, { dot: true });
  const allowed = cfg.allowlist.length ? picomatch(cfg.allowlist, { dot: true }) : () => false;
  const severity: GuardFinding['severity'] = cfg.strict ? 'error' : 'warning';
  const findings: GuardFinding[] = [];
  for (const rel of walk(root)) {
    if (!included(rel) || allowed(rel) || skip(rel)) continue;
    const abs = path.join(root, rel);
    let text: string;
    try {
      if (fs.statSync(abs).size > MAX_FILE_BYTES) {
        findings.push({ file: rel, severity, message: `${rel} is larger than ${MAX_FILE_BYTES} bytes and was not scanned`, code: 'docops.too-large' });
        continue;
      }
      text = fs.readFileSync(abs, 'utf8');
    } catch {
      continue;
    }
    if (!tokens.some((t) => text.includes(t))) continue;
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      for (const token of tokens) {
        const col = lines[i].indexOf(token);
        if (col >= 0) {
          findings.push({ file: rel, line: i + 1, severity, message: `forbidden token "${token}" at column ${col + 1}`, code: 'docops.forbidden-token' });
        }
      }
    }
  }
  const status = findings.length === 0 ? 'PASS' : cfg.strict ? 'FAIL' : 'WARN';
  return { name, source: 'builtin', status, findings, durationMs: performance.now() - t0 };
}
