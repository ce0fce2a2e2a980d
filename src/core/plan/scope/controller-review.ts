/**
 * The optional Controller model (spec §6-1; off unless `controller.model` is set): one request
 * asking a model to review a ticket's derived scope candidates, narrowing or extending them. It
 * goes through our own metered gateway (a private one for this call, capped at
 * min(controller.maxUsd, the cycle's budget)), so the key stays on the host and every token is
 * priced. The answer is untrusted (controller-answer.ts); any failure leaves the candidates as
 * they were, with `error` set: the model can improve a plan, never stop one.
 */
import * as fs from 'node:fs';
import { PriceTable } from '../../config/prices';
import type { FactoryConfig } from '../../config/schema';
import type { SpendEntry } from '../../contracts/history-entry';
import { ModelGateway, keysFromEnv, makeSocketDir, type GatewayRecord, type ProviderKeys } from '../../gateway/gateway';
import { FactoryError, errorMessage } from '../../util/errors';
import { nullLogger, type Logger } from '../../util/log';
import { acceptControllerAnswer, controllerPrompt, parseControllerAnswer, type ControllerPromptInput } from './controller-answer';
import { askController, controllerProvider } from './controller-wire';
import type { ScopeCandidate } from './scope-types';

/** What the review needs. */
export interface ControllerReviewRequest extends ControllerPromptInput {
  candidates: ScopeCandidate[];
  /** Every file of the repository (`git ls-files`): the only paths the model may name. */
  files: readonly string[];
  /** The plan's forbidden globs (SSOT documents, `.env*`, logs, …): never accepted from the model. */
  forbidden: readonly string[];
  config: Pick<FactoryConfig, 'controller' | 'prices' | 'gateway'>;
  /** Provider keys (SecretStorage in the editor); default: the host environment's, as the CLI uses. */
  keys?: ProviderKeys;
  /** What is left of the cycle's budget (USD). */
  budgetUsd: number;
  signal?: AbortSignal;
  logger?: Logger;
}

/** The reviewed candidates and what the review cost. */
export interface ControllerReview {
  /** The model's scope (source `controller`, plus the reviewed evidence it kept), or the input unchanged on `error`. */
  candidates: ScopeCandidate[];
  /** Metered spend of the review (also on `error`: a refused or failed call may still have cost). */
  costUsd: number;
  /** The gateway's records of the review's calls (for evidence). */
  records: GatewayRecord[];
  /** The history line's `spend` entry (role `controller`), once a call was made. */
  spend?: SpendEntry;
  /** Why the candidates were left unchanged. */
  error?: string;
}

/** The gateway's settings for one review: only the one provider's key, the cap, our own socket. */
function gatewayFor(req: ControllerReviewRequest, provider: NonNullable<ReturnType<typeof controllerProvider>>, socketPath: string, capUsd: number) {
  const key = (req.keys ?? keysFromEnv())[provider];
  const me = typeof process.getuid === 'function' && typeof process.getgid === 'function' ? { uid: process.getuid(), gid: process.getgid() } : undefined;
  return {
    socketPath,
    keys: key ? { [provider]: key } : {},
    upstreams: req.config.gateway.upstreams,
    prices: PriceTable.withOverrides(req.config.prices),
    budgetUsd: capUsd,
    // Only this process may connect: nothing else should spend the Controller's budget.
    ...(me ? { socketOwner: me } : {}),
    logger: req.logger ?? nullLogger,
  };
}

/** The history's `spend` entry for the review's calls. */
function spendOf(model: string, records: readonly GatewayRecord[], costUsd: number): SpendEntry {
  const u = records.reduce((t, r) => ({ in: t.in + r.usage.inputTokens + r.usage.cachedInputTokens + r.usage.cacheWriteTokens, out: t.out + r.usage.outputTokens }), { in: 0, out: 0 });
  return { role: 'controller', model, tokens: u, costUsd };
}

/**
 * Ask the configured Controller model to review `req.candidates` against the ticket and AC text.
 * Returns the accepted scope as candidates (source `controller`, reason "Controller model <model>:
 * <its reason>"); on any refusal or error the input candidates unchanged with `error` set. Throws
 * only `interrupted` when `req.signal` aborts.
 */
export async function reviewScope(req: ControllerReviewRequest): Promise<ControllerReview> {
  const log = req.logger ?? nullLogger;
  const model = req.config.controller.model;
  const unchanged = (error: string, costUsd = 0, records: GatewayRecord[] = []): ControllerReview => {
    log.warn(`Controller model: scope left as derived: ${error}`);
    return { candidates: req.candidates, costUsd, records, ...(records.length && model ? { spend: spendOf(model, records, costUsd) } : {}), error };
  };
  if (!model) return unchanged('controller.model is not set');
  const provider = controllerProvider(model, req.config.controller.provider);
  if (!provider) return unchanged(`cannot tell the provider of '${model}' from its name: set controller.provider (anthropic, openai or gemini)`);
  const capUsd = Math.max(0, Math.min(req.config.controller.maxUsd, req.budgetUsd));
  if (req.signal?.aborted) throw new FactoryError('interrupted before the Controller model was asked', 'interrupted');

  let gateway: ModelGateway | undefined;
  let dir: string | undefined;
  let text: string | undefined;
  let failure: string | undefined;
  try {
    const sock = await makeSocketDir();
    dir = sock.dir;
    gateway = await ModelGateway.start(gatewayFor(req, provider, sock.socketPath, capUsd));
    text = await askController(sock.socketPath, provider, model, controllerPrompt(req), req.signal);
  } catch (err) {
    failure = errorMessage(err);
  } finally {
    await gateway?.close().catch(() => undefined);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
  if (req.signal?.aborted) throw new FactoryError('interrupted while the Controller model reviewed the scope', 'interrupted');
  const records = gateway?.records() ?? [];
  const costUsd = gateway?.summary().costUsd ?? 0;
  if (failure !== undefined || text === undefined) return unchanged(failure ?? 'no answer', costUsd, records);
  if (costUsd > capUsd) log.warn(`Controller model ${model}: the review cost $${costUsd.toFixed(4)}, over its cap of $${capUsd.toFixed(4)}`);
  return settle(req, model, text, costUsd, records, unchanged);
}

/** The answer checked and turned into candidates, or the input unchanged when nothing usable is left. */
function settle(req: ControllerReviewRequest, model: string, text: string, costUsd: number, records: GatewayRecord[], unchanged: (e: string, c: number, r: GatewayRecord[]) => ControllerReview): ControllerReview {
  const log = req.logger ?? nullLogger;
  let accepted: ReturnType<typeof acceptControllerAnswer>;
  try {
    accepted = acceptControllerAnswer(parseControllerAnswer(text), { files: req.files, forbidden: req.forbidden, model, candidates: req.candidates });
  } catch (err) {
    return unchanged(`${model}: ${errorMessage(err)}`, costUsd, records);
  }
  for (const d of accepted.dropped) log.warn(`Controller model ${model}: dropped ${d}`);
  const modify = accepted.candidates.filter((c) => c.source === 'controller' && c.cls === 'modify');
  if (!modify.length) return unchanged(`${model} named no existing, allowed file to modify${accepted.dropped.length ? ` (${accepted.dropped.length} dropped)` : ''}`, costUsd, records);
  const readonly = accepted.candidates.filter((c) => c.source === 'controller' && c.cls === 'readonly').length;
  log.info(`Controller model ${model} reviewed the scope: ${modify.length} to modify, ${readonly} read-only, ${accepted.dropped.length} dropped ($${costUsd.toFixed(4)})`);
  return { candidates: accepted.candidates, costUsd, records, spend: spendOf(model, records, costUsd) };
}
