/** The Docker Swarm backend (issue 19): placeholder until backend/swarm/ lands. */
import type { FactoryConfig } from '../../config/schema';
import { FactoryError } from '../../util/errors';
import type { BackendDeps, ExecutionBackend } from '../backend';

export function swarmBackend(_config: FactoryConfig, _deps: BackendDeps): Promise<ExecutionBackend> {
  return Promise.reject(new FactoryError('the swarm backend is not built yet (engine.backend: "swarm")', 'swarm.unavailable'));
}
