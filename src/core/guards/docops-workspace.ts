import type { FactoryConfig } from '../config/schema';
import { formatRunId } from '../evidence/run-id';
import { createGateRunner } from '../gate/gate-workspace';
import type { Logger, ProgressSink } from '../util/log';
import type { DocOpsReport } from './guard-model';
import { runDocOps } from './run-docops';

/**
 * `factory docops` / "Factory: Run DocOps": the built-in SSOT Docs and DocOps Token guards, plus
 * the project's own `kind: "docops"` guard scripts — those in a sandbox container unless
 * `runIn: "host"` (they are the project's code, untrusted like the rest).
 */
export async function docOpsWorkspace(root: string, config: FactoryConfig, opts: { runIn?: 'host' | 'container'; logger?: Logger; progress?: ProgressSink; signal?: AbortSignal } = {}): Promise<DocOpsReport> {
  const hasScripts = config.guards.some((g) => g.kind === 'docops');
  const handle = hasScripts
    ? createGateRunner(root, config, { runId: formatRunId(new Date(), 'docops', undefined), ticket: 'docops', ...(opts.logger ? { logger: opts.logger } : {}), ...(opts.runIn ? { runIn: opts.runIn } : {}) })
    : undefined;
  try {
    return await runDocOps({ root, config, ...(handle ? { runner: handle.runner } : {}), ...(opts.logger ? { logger: opts.logger } : {}), ...(opts.progress ? { progress: opts.progress } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  } finally {
    await handle?.dispose();
  }
}
