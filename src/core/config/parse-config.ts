import { findNodeAtLocation, getNodePath, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import type { z } from 'zod';
import type { Diagnostic } from '../ssot/model';
import { CONFIG_FILE, configFileDiagnostic, defaultConfigFast, type LoadedConfig } from './config-file';
import { routingDiagnostics } from './routing-check';
import { configSchema } from './schema';

// This module holds everything that needs zod and jsonc-parser; load.ts imports it only when a
// config file exists, so commands on a workspace without one never pay for loading zod.

/**
 * Parse the text of a config file (pure; exported for the extension, which validates unsaved
 * editor buffers, and for tests).
 */
export function parseConfigText(raw: string): Omit<LoadedConfig, 'file'> {
  // Editors on Windows may save a BOM; it is not JSON, but it is not the user's mistake either.
  const text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
  const lines = lineStarts(text);
  const errors: ParseError[] = [];
  // Comments and trailing commas are reported: the file is plain JSON that other tools (and
  // Python guard scripts) may read with a strict parser.
  const tree = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (errors.length > 0 || tree === undefined) {
    const diagnostics: Diagnostic[] = errors.map((e) => ({
      file: CONFIG_FILE,
      line: lineOf(lines, e.offset),
      severity: 'error' as const,
      message: `invalid JSON: ${describeParseError(e)}`,
      code: 'config.json-syntax',
    }));
    if (diagnostics.length === 0) diagnostics.push({ ...configFileDiagnostic('is empty'), code: 'config.json-syntax' });
    return { config: defaultConfigFast(), diagnostics };
  }

  const diagnostics: Diagnostic[] = duplicateKeys(tree).map((key) => ({
    file: CONFIG_FILE,
    line: lineOf(lines, key.offset),
    severity: 'warning',
    message: `${formatPath(getNodePath(key.parent!))}: duplicate key; only the last one counts`,
    code: 'config.duplicate-key',
  }));

  // jsonc-parser built the tree from the same text; JSON.parse gives plain objects with the same
  // last-key-wins semantics, which is what every other reader of the file will see.
  const value: unknown = JSON.parse(text);
  const result = configSchema.safeParse(value);
  if (result.success) {
    // The cost gate's checks (unknown agent, unpriced model, a weak CRIT Auditor) on the line of
    // their key; an error-level one makes the file invalid, like a schema error.
    const routing = routingDiagnostics(result.data).map((d) => ({
      file: CONFIG_FILE,
      line: lineOf(lines, nodeFor(tree, d.path).offset),
      severity: d.severity,
      message: `${formatPath(d.path)}: ${d.message}`,
      code: d.code,
    }));
    diagnostics.push(...routing);
    return { config: routing.some((d) => d.severity === 'error') ? defaultConfigFast() : result.data, diagnostics };
  }

  for (const issue of result.error.issues) diagnostics.push(...issueDiagnostics(issue, tree, lines));
  return { config: defaultConfigFast(), diagnostics };
}

/** One diagnostic per zod issue; an unknown-keys issue gives one per key, each on its own line. */
function issueDiagnostics(issue: z.core.$ZodIssue, tree: Node, lines: number[]): Diagnostic[] {
  const at = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const objectNode = findNodeAtLocation(tree, at);
      const property = objectNode?.children?.find((c) => c.children?.[0]?.value === key);
      return {
        file: CONFIG_FILE,
        line: lineOf(lines, (property ?? objectNode ?? tree).offset),
        severity: 'error' as const,
        message: `${formatPath([...at, key])}: unknown key (not part of the config schema)`,
        code: 'config.unknown-key',
      };
    });
  }
  return [
    {
      file: CONFIG_FILE,
      line: lineOf(lines, nodeFor(tree, at).offset),
      severity: 'error',
      message: `${formatPath(at)}: ${issue.message.replace(/^Invalid input: /, '')}`,
      code: 'config.schema',
    },
  ];
}

/**
 * The node to point at for a path: the property (so the line is the key's line), or the nearest
 * ancestor that exists (a missing key is reported on its parent object).
 */
function nodeFor(tree: Node, at: (string | number)[]): Node {
  for (let n = at.length; n > 0; n--) {
    const node = findNodeAtLocation(tree, at.slice(0, n));
    if (node) return node.parent?.type === 'property' ? node.parent : node;
  }
  return tree;
}

/** Keys that occur twice in one object (JSON allows it; the earlier value is silently lost). */
function duplicateKeys(node: Node): Node[] {
  const found: Node[] = [];
  const walk = (n: Node): void => {
    if (n.type === 'object') {
      const seen = new Set<string>();
      for (const prop of n.children ?? []) {
        const key = prop.children?.[0];
        if (key && typeof key.value === 'string') {
          if (seen.has(key.value)) found.push(key);
          seen.add(key.value);
        }
      }
    }
    for (const c of n.children ?? []) walk(c);
  };
  walk(node);
  return found;
}

/** `worker.memoryMb`, `gate.stages[0].command`, `(root)` for the top level. */
export function formatPath(at: readonly (string | number)[]): string {
  if (at.length === 0) return '(root)';
  let out = '';
  for (const part of at) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

function describeParseError(e: ParseError): string {
  // printParseErrorCode gives names like `PropertyNameExpected`; spell them out for people.
  return printParseErrorCode(e.error)
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .replace(/^invalid comment token$/, 'comments are not allowed in JSON');
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

/** 1-based line of a character offset (binary search over line starts). */
function lineOf(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}
