/** Names and labels of the swarm objects a run creates (networks, services, secrets). */
import * as crypto from 'node:crypto';
import { LABELS, ownerTag } from '../../sandbox/container-spec';

/** A run id as a DNS-safe fragment: lower-case `[a-z0-9-]`, ≤ 32 characters, plus a hash so two ids never meet. */
export function runSlug(runId: string): string {
  const base = runId.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 24) || 'run';
  const hash = crypto.createHash('sha256').update(runId).digest('hex').slice(0, 6);
  return `${base}-${hash}`;
}

/** The run's overlay network. */
export function runNetworkName(runId: string): string {
  return `factory-net-${runSlug(runId)}`;
}

/** The run's relay service (its DNS name on the run network). */
export function relayServiceName(runId: string): string {
  return `factory-relay-${runSlug(runId)}`;
}

/** The labels every swarm object of the Factory carries: managed, this Controller as owner, then the caller's. */
export function swarmLabels(labels: Record<string, string>): Record<string, string> {
  return { [LABELS.managed]: '1', [LABELS.owner]: ownerTag(), ...labels };
}

/** Whether an engine error says the object is gone already. */
export function isGone(err: unknown): boolean {
  const e = err as { statusCode?: number; message?: string };
  return e?.statusCode === 404 || /no such|not found/i.test(e?.message ?? '');
}
