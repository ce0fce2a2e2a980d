import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { CONFIG_FILE } from '../../../src/core/config/config-file';
import { REPO_ROOT, tempDirs } from './cli-process';

/**
 * A stub Docker engine on a Unix socket: the few API calls the checks make. `swarm` is what
 * `GET /info` says about the node (inactive here: no swarm manager).
 */
function stubEngine(socket: string): Promise<{ close: () => Promise<void>; calls: string[] }> {
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '').replace(/^\/v[\d.]+/, '').split('?')[0] ?? '';
    calls.push(`${req.method} ${url}`);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url === '/_ping') {
      res.writeHead(200, { 'content-type': 'text/plain', 'api-version': '1.45' });
      res.end('OK');
    } else if (url === '/version') json(200, { Version: '99.0.0-stub', ApiVersion: '1.45', Os: 'linux', Arch: 'amd64' });
    else if (url === '/info') json(200, { ID: 'stub', Name: 'stub-host', ServerVersion: '99.0.0-stub', Swarm: { LocalNodeState: 'inactive', NodeID: '', ControlAvailable: false } });
    else if (url.startsWith('/nodes') || url.startsWith('/swarm') || url.startsWith('/services') || url.startsWith('/networks')) json(503, { message: 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.' });
    else json(404, { message: `stub engine: no route ${url}` });
  });
  return new Promise((resolve) => {
    server.listen(socket, () => resolve({ calls, close: () => new Promise<void>((r) => server.close(() => r())) }));
  });
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `factory doctor …` from the sources (tsx), with the engine at DOCKER_HOST. */
function doctor(args: string[], dockerHost: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: dockerHost };
    delete env.DOCKER_TLS_VERIFY;
    delete env.DOCKER_CERT_PATH;
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'doctor', ...args], { cwd: REPO_ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('factory doctor: the execution backend checks, against a stub engine', function () {
  this.timeout(120_000);
  const dirs = tempDirs();
  let socket: string;
  let engine: Awaited<ReturnType<typeof stubEngine>>;
  let root: string;

  before(async () => {
    const dir = dirs.make('doctor');
    socket = path.join(dir, 'engine.sock');
    engine = await stubEngine(socket);
    root = dirs.make('doctor-root');
  });
  after(async () => {
    await engine.close();
    dirs.cleanup();
  });

  it('local backend with an engine that answers: ✓ per check, exit 0; --json says the same', async () => {
    const r = await doctor(['--root', root], `unix://${socket}`);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^execution backend: local \(engine unix:\/\/.*engine\.sock\)$/m);
    assert.match(r.stdout, /^✓ local\.engine: Docker engine 99\.0\.0-stub \(API 1\.45\)$/m);
    assert.doesNotMatch(r.stdout, /✗/);
    const j = await doctor(['--root', root, '--json'], `unix://${socket}`);
    assert.equal(j.code, 0, j.stderr);
    const report = JSON.parse(j.stdout) as { backend: string; ok: boolean; checks: { id: string; ok: boolean }[] };
    assert.equal(report.backend, 'local');
    assert.equal(report.ok, true);
    assert.deepEqual(report.checks.map((c) => [c.id, c.ok]), [['local.engine', true]]);
    assert.ok(engine.calls.some((c) => c.endsWith('/version')), `the engine was asked: ${engine.calls.join(', ')}`);
  });

  it('no engine at DOCKER_HOST: ✗ engine with its fix, exit 2', async () => {
    const r = await doctor(['--root', root], `unix://${path.join(path.dirname(socket), 'absent.sock')}`);
    assert.equal(r.code, 2, r.stderr + r.stdout);
    assert.match(r.stdout, /^✗ engine: the Docker engine at unix:\/\/.*absent\.sock does not answer/m);
    assert.match(r.stdout, /^ {4}fix: start dockerd, or set DOCKER_HOST/m);
    assert.match(r.stdout, /^1 check\(s\) failed$/m);
  });

  it('swarm (from the config, or --backend) on an engine that is no swarm manager: ✗ lines with fixes, exit 2', async () => {
    const swarmRoot = dirs.make('doctor-swarm');
    fs.mkdirSync(path.dirname(path.join(swarmRoot, CONFIG_FILE)), { recursive: true });
    fs.writeFileSync(path.join(swarmRoot, CONFIG_FILE), JSON.stringify({ engine: { backend: 'swarm' } }));
    for (const args of [['--root', swarmRoot, '--json'], ['--root', root, '--backend', 'swarm', '--json']]) {
      const r = await doctor(args, `unix://${socket}`);
      assert.equal(r.code, 2, r.stderr + r.stdout);
      const report = JSON.parse(r.stdout) as { backend: string; ok: boolean; checks: { id: string; ok: boolean; fix?: string }[] };
      assert.equal(report.backend, 'swarm');
      assert.equal(report.ok, false);
      const failed = report.checks.filter((c) => !c.ok);
      assert.ok(failed.length > 0 && failed.every((c) => c.id.startsWith('swarm.') || c.id === 'engine'), JSON.stringify(report.checks));
      assert.ok(failed.some((c) => c.fix), 'a failed check says what to do');
      const manager = report.checks.find((c) => c.id === 'swarm.manager');
      assert.ok(manager && !manager.ok && manager.fix?.includes('docker swarm init'), `the swarm's own checks, not only the refusal: ${JSON.stringify(report.checks)}`);
    }
    // …and --backend local checks the local engine of the same swarm-configured repository.
    const local = await doctor(['--root', swarmRoot, '--backend', 'local'], `unix://${socket}`);
    assert.equal(local.code, 0, local.stderr + local.stdout);
  });

  it('--backend takes only local or swarm (usage error, exit 2)', async () => {
    const r = await doctor(['--root', root, '--backend', 'k8s'], `unix://${socket}`);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--backend must be local or swarm, not "k8s"/);
    assert.equal(r.stdout, '');
  });
});
