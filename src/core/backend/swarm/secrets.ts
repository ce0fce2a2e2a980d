/** A job's one-time token as a swarm secret: the engine hands it to the task's container only, as a file. */
import type Docker from 'dockerode';
import { ENGINE_CALL_MS, withTimeout } from '../../sandbox/engine-calls';
import { FactoryError, errorMessage } from '../../util/errors';
import { isGone, swarmLabels } from './names';

export interface JobSecret {
  id: string;
  name: string;
  /** Remove the secret (idempotent; only after the job's service is gone: the engine refuses a secret in use). */
  remove(): Promise<void>;
}

/** Name of a job's token secret. */
export function jobSecretName(jobId: string): string {
  return `factory-token-${jobId}`;
}

export async function createJobSecret(docker: Docker, jobId: string, token: string, labels: Record<string, string>): Promise<JobSecret> {
  const name = jobSecretName(jobId);
  if (token.length === 0) throw new FactoryError('a job token must not be empty', 'swarm.job');
  let id: string;
  try {
    const created = (await withTimeout(
      docker.createSecret({ Name: name, Labels: swarmLabels(labels), Data: Buffer.from(token, 'utf8').toString('base64') }),
      ENGINE_CALL_MS,
      'secret create',
    )) as unknown as { id?: string; ID?: string };
    id = created.id ?? created.ID ?? '';
  } catch (err) {
    throw new FactoryError(`cannot create the token secret of job ${jobId}: ${errorMessage(err)}`, 'swarm.job');
  }
  if (!id) throw new FactoryError(`the engine returned no id for the token secret of job ${jobId}`, 'swarm.job');
  let removed = false;
  return {
    id,
    name,
    async remove() {
      if (removed) return;
      try {
        await withTimeout(docker.getSecret(id).remove(), ENGINE_CALL_MS, 'secret remove');
      } catch (err) {
        if (!isGone(err)) throw new FactoryError(`cannot remove the token secret ${name}: ${errorMessage(err)}`, 'swarm.job');
      }
      removed = true;
    },
  };
}
