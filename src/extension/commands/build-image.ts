import * as path from 'node:path';

/** The npm packages of the agent CLIs the image can carry (docker/worker.Dockerfile's AGENT_CLIS). */
const AGENT_PACKAGES: Record<string, string> = {
  'claude-code': '@anthropic-ai/claude-code',
  codex: '@openai/codex',
  gemini: '@google/gemini-cli',
};

export interface ImageTask {
  name: string;
  command: string;
  args: string[];
  cwd: string;
}

/**
 * "Factory: Build Worker Image": `docker build` of the Dockerfile the extension ships
 * (docker/worker.Dockerfile: Debian slim, python3, git, Node, and the configured agent CLIs), tagged
 * as `worker.image` from the config, run as a VS Code task so its output and exit are visible.
 * Pure (no `vscode`), so plain mocha checks the command line.
 */
export function buildImageTask(extensionDir: string, image: string, workspaceRoot: string, agents: readonly string[] = []): ImageTask {
  const docker = path.join(extensionDir, 'docker');
  const clis = [...new Set(agents.map((a) => AGENT_PACKAGES[a]).filter((p): p is string => !!p))];
  const args = ['build', '--pull', '-t', image, '-f', path.join(docker, 'worker.Dockerfile')];
  if (clis.length) args.push('--build-arg', `AGENT_CLIS=${clis.join(' ')}`);
  if (agents.includes('aider')) args.push('--build-arg', 'AIDER=1');
  args.push(docker);
  return { name: `Build Worker Image (${image})`, command: 'docker', args, cwd: workspaceRoot };
}
