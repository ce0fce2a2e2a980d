import { performance } from 'node:perf_hooks';
import type { FactoryConfig } from '../config/schema';
import { indexWorkspace } from '../ssot/workspace';
import { FactoryError } from '../util/errors';
import type { GuardResult } from './guard-model';

/**
 * The "SSOT Docs" guard (spec §5-1): the SSOT documents parse and keep their invariants (no
 * duplicate AC, no DONE without evidence, roadmap DONE/TOTAL agrees with the ledger, no AC deleted
 * since git HEAD). Any error-level diagnostic FAILs; warnings are reported (WARN).
 */
export async function checkSsotDocs(root: string, config: FactoryConfig, signal?: AbortSignal): Promise<GuardResult> {
  const t0 = performance.now();
  const name = 'SSOT Docs';
  try {
    const index = await indexWorkspace(root, config, { ...(signal ? { signal } : {}) });
    const findings = index.diagnostics
      .filter((d) => d.severity !== 'info')
      .map((d) => ({
        file: d.file,
        line: d.line,
        severity: d.severity === 'error' ? ('error' as const) : ('warning' as const),
        message: d.message,
        ...(d.code ? { code: d.code } : {}),
      }));
    const status = findings.some((f) => f.severity === 'error') ? 'FAIL' : findings.length ? 'WARN' : 'PASS';
    return { name, source: 'builtin', status, findings, durationMs: performance.now() - t0 };
  } catch (err) {
    if (!(err instanceof FactoryError)) throw err;
    return {
      name,
      source: 'builtin',
      status: 'FAIL',
      findings: [{ severity: 'error', message: err.message, code: err.code }],
      durationMs: performance.now() - t0,
    };
  }
}
