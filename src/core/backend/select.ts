/** The run's backend from `config.engine.backend`: the swarm's module is loaded only when asked for. */
import type { FactoryConfig } from '../config/schema';
import type { BackendDeps, ExecutionBackend } from './backend';
import { localBackend } from './local';

export async function openBackend(config: FactoryConfig, deps: BackendDeps): Promise<ExecutionBackend> {
  if (config.engine.backend === 'local') return localBackend(deps);
  const { swarmBackend } = await import('./swarm/swarm-backend');
  return swarmBackend(config, deps);
}
