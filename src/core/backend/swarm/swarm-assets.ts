/** The relay's bundles on the host: dist/relay.js (the relay image) and dist/swarm-boot.js (every task's boot script). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FactoryError } from '../../util/errors';

/** `name` next to the running bundle (dist/cli.js, dist/extension.js), else in the repository's dist/. */
export function findSwarmAsset(name: 'relay.js' | 'swarm-boot.js'): string {
  const candidates = [path.join(__dirname, name), path.resolve(__dirname, '..', '..', '..', '..', 'dist', name)];
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new FactoryError(`the swarm bundle ${name} is missing (looked for ${candidates.join(', ')}; run npm run build)`, 'runtime_missing');
  return found;
}

let bootSource: string | undefined;

/** The boot script's source, as the task runs it (`node -e <source>`). */
export function swarmBootSource(): string {
  bootSource ??= fs.readFileSync(findSwarmAsset('swarm-boot.js'), 'utf8');
  return bootSource;
}
