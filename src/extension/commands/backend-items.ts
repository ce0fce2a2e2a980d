/** The rows of "Factory: Check Execution Backend" (backend-command.ts), vscode-free so plain mocha tests them. */
import type { BackendReport } from '../../core/backend/run-checks';

/** One row of the Quick Pick. */
export interface CheckItem {
  label: string;
  description?: string;
  detail?: string;
}

/** The report as rows: a header, then a row per check (✓ / ✗ icon, id, what was found; the fix under a failed one). */
export function checkItems(r: BackendReport, source: string): CheckItem[] {
  const failed = r.checks.filter((c) => !c.ok).length;
  const head: CheckItem = {
    label: `${r.ok ? '$(pass-filled)' : '$(error)'} ${r.backend} backend: ${r.ok ? 'ready' : `${failed} check${failed === 1 ? '' : 's'} failed`}`,
    description: `${source}${r.engine ? ` · engine ${r.engine}` : ''}`,
  };
  return [
    head,
    ...r.checks.map((c) => ({
      label: `${c.ok ? '$(check)' : '$(close)'} ${c.id}`,
      description: c.detail,
      ...(!c.ok && c.fix ? { detail: `Fix: ${c.fix}` } : {}),
    })),
  ];
}

/** Where the checked backend was chosen, in words. */
export function backendSource(setting: 'local' | 'swarm' | undefined): string {
  return setting ? `factory.engine.backend = ${setting}` : 'engine.backend in .factory/config.json';
}
