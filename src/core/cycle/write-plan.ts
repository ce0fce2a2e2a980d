import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FactoryConfig } from '../config/schema';
import { acquireRepoLock } from '../lock/repo-lock';
import type { BuiltPlan } from '../plan/builder';
import { atomicWrite } from '../util/atomic-write';
import type { Logger } from '../util/log';
import { cyclePaths, preparePlan } from './orchestrator';

/**
 * Build plan.json for the next cycle (queue order, or `ticket`) and write it atomically
 * (`factory plan`, "Factory: Build plan.json"). Under the repo lock: plan.json is a running
 * cycle's contract, never overwritten under a live cycle (FactoryError `locked`, exit 3).
 */
export async function writePlan(
  root: string,
  config: FactoryConfig,
  opts: { ticket?: string; agent?: string; model?: string; overrideSource?: string; signal?: AbortSignal; logger?: Logger } = {},
): Promise<{ built: BuiltPlan; file: string }> {
  const lock = await acquireRepoLock(root, { ...(opts.logger ? { logger: opts.logger } : {}) });
  try {
    // The routes follow the ticket's history (escalation on retry), read by preparePlan under the lock.
    const { built } = await preparePlan(root, config, {
      ...(opts.ticket ? { ticket: opts.ticket } : {}),
      ...(opts.agent ? { agent: opts.agent } : {}),
      ...(opts.model ? { model: opts.model } : {}),
      ...(opts.overrideSource ? { overrideSource: opts.overrideSource } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const file = cyclePaths(root, config).plan;
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await atomicWrite(file, JSON.stringify(built.plan, null, 2) + '\n');
    return { built, file };
  } finally {
    await lock.release();
  }
}
