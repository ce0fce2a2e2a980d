import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BOOT_EXIT_CODE, BOOT_ROOT_ENV, RELAY_ENV, RELAY_JOB_FILES, RELAY_READY_FILE, RELAY_ROUTES, TASK_ENV, type BundleManifest } from '../../../src/core/contracts/relay-protocol';
import { buildRelayBundles, call, fakeGateway, makeJob, startRelay, tempDir, type Running } from './fixture';

const TOKEN = 'boot-token-0123456789abcdef0123456789';

/** The bundle as the Controller packs it: manifest.json first, then `m<k>/…` (pax headers for long names). */
function packBundle(dir: string, manifest: BundleManifest, trees: Record<string, Record<string, string>>): string {
  const src = path.join(dir, 'src');
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(path.join(src, 'manifest.json'), JSON.stringify(manifest));
  for (const [m, files] of Object.entries(trees)) {
    fs.mkdirSync(path.join(src, m), { recursive: true });
    for (const [rel, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(src, m, rel)), { recursive: true });
      fs.writeFileSync(path.join(src, m, rel), text);
    }
  }
  const out = path.join(dir, 'bundle.tar');
  const r = spawnSync('tar', ['-c', '--format=posix', '-f', out, '-C', src, 'manifest.json', ...Object.keys(trees)]);
  assert.equal(r.status, 0, r.stderr.toString());
  return out;
}

/** `node -e <swarm-boot.js>`, as the swarm task runs it; resolves exit code and stderr. */
function runBoot(bootJs: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', fs.readFileSync(bootJs, 'utf8')], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** The task's command: edits the repo, asks the gateway socket, writes the answer, exits 3. */
const TASK_SCRIPT = `
const fs = require('fs'), http = require('http'), path = require('path');
const root = process.env.ROOT;
fs.appendFileSync(path.join(root, 'work/file.txt'), 'edited by the task\\n');
fs.writeFileSync(path.join(root, 'work/new.txt'), 'new\\n');
const req = http.request({ socketPath: path.join(root, 'factory/gateway/gateway.sock'), method: 'POST', path: '/v1/messages?x=1', headers: { authorization: 'Bearer placeholder', 'content-type': 'application/json' } }, (res) => {
  let body = '';
  res.on('data', (c) => (body += c));
  res.on('end', () => { fs.writeFileSync(path.join(root, 'factory/agent/answer.txt'), res.statusCode + ' ' + body); process.exit(3); });
});
req.end(JSON.stringify({ hello: process.env.GREETING }));
`;

describe('swarm task boot script (dist/swarm-boot.js) and relay process (dist/relay.js)', function () {
  this.timeout(120_000);
  let tmp: string;
  let built: { relay: string; boot: string };
  let relay: Running;
  let relayDir: string;

  before(async () => {
    tmp = tempDir('swarm-boot-');
    built = await buildRelayBundles(path.join(tmp, 'dist'));
    relayDir = path.join(tmp, 'run');
    fs.mkdirSync(relayDir);
    relay = await startRelay(relayDir);
  });
  after(async () => {
    await relay.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('is small enough for one argv string (and esbuild.js builds both bundles)', () => {
    assert.ok(fs.statSync(built.boot).size < 100 * 1024, `${fs.statSync(built.boot).size} bytes`);
    const config = fs.readFileSync('esbuild.js', 'utf8');
    assert.match(config, /relay: 'src\/relay\/main\.ts', 'swarm-boot': 'src\/relay\/boot\.ts'/);
  });

  it('downloads the bundle, runs the command with the gateway socket, uploads the writable mounts and exits with its code', async () => {
    const root = path.join(tmp, 'task-root');
    const longName = `${'d'.repeat(60)}/${'f'.repeat(120)}.txt`;
    const manifest: BundleManifest = {
      schema_version: 1,
      mounts: [
        { dir: 'm0', containerPath: '/work', readOnly: false },
        { dir: 'm1', containerPath: '/factory/task', readOnly: true },
        { dir: 'm2', containerPath: '/factory/agent', readOnly: false },
      ],
      cmd: [process.execPath, path.join(root, 'factory/task/task.js')],
      env: { ROOT: root, GREETING: 'hi' },
      workdir: '/work',
      gatewaySocket: '/factory/gateway/gateway.sock',
    };
    const bundle = packBundle(path.join(tmp, 'b1'), manifest, { m0: { 'file.txt': 'original\n', [longName]: 'deep\n' }, m1: { 'task.js': TASK_SCRIPT } });
    const job = makeJob(relayDir, 'job-1', TOKEN, { gateway: true }, bundle);
    const gateway = await fakeGateway(path.join(job, RELAY_JOB_FILES.gatewaySocket), (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ got: JSON.parse(req.body) }));
    });
    const tokenFile = path.join(tmp, 'token');
    fs.writeFileSync(tokenFile, `${TOKEN}\n`);
    const env = { [TASK_ENV.relayUrl]: `http://127.0.0.1:${relay.port}`, [TASK_ENV.jobId]: 'job-1', [TASK_ENV.tokenFile]: tokenFile, [BOOT_ROOT_ENV]: root };
    const r = await runBoot(built.boot, env);
    await gateway.close();
    assert.equal(r.code, 3, r.stderr);
    assert.equal(gateway.seen.length, 1);
    assert.equal(gateway.seen[0].url, '/v1/messages?x=1');
    assert.equal(gateway.seen[0].headers.authorization, undefined);
    // the result: m0 and m2 (writable), not m1
    const list = spawnSync('tar', ['-tf', path.join(job, RELAY_JOB_FILES.result)]).stdout.toString().split('\n').filter(Boolean);
    assert.ok(list.includes('m0/file.txt') && list.includes('m0/new.txt') && list.includes(`m0/${longName}`) && list.includes('m2/answer.txt'), list.join(' '));
    assert.ok(list.every((n) => n.startsWith('m0/') || n.startsWith('m2/')), list.join(' '));
    const out = path.join(tmp, 'out');
    fs.mkdirSync(out);
    assert.equal(spawnSync('tar', ['-xf', path.join(job, RELAY_JOB_FILES.result), '-C', out]).status, 0);
    assert.equal(fs.readFileSync(path.join(out, 'm0/file.txt'), 'utf8'), 'original\nedited by the task\n');
    assert.equal(fs.readFileSync(path.join(out, 'm2/answer.txt'), 'utf8'), '200 {"got":{"hello":"hi"}}');
    // the bundle was the one download
    assert.equal((await call(relay.port, 'GET', RELAY_ROUTES.bundle('job-1'), { token: TOKEN })).status, 410);
  });

  it('exits 125 with a clear line when the relay refuses its token, running nothing', async () => {
    const root = path.join(tmp, 'task-root-2');
    const marker = path.join(tmp, 'ran');
    const manifest: BundleManifest = { schema_version: 1, mounts: [{ dir: 'm0', containerPath: '/work', readOnly: false }], cmd: ['touch', marker], env: {}, workdir: '/work' };
    makeJob(relayDir, 'job-2', TOKEN, {}, packBundle(path.join(tmp, 'b2'), manifest, { m0: { a: 'a' } }));
    const tokenFile = path.join(tmp, 'wrong-token');
    fs.writeFileSync(tokenFile, 'not-the-token');
    const r = await runBoot(built.boot, { [TASK_ENV.relayUrl]: `http://127.0.0.1:${relay.port}`, [TASK_ENV.jobId]: 'job-2', [TASK_ENV.tokenFile]: tokenFile, [BOOT_ROOT_ENV]: root });
    assert.equal(r.code, BOOT_EXIT_CODE);
    assert.match(r.stderr, /factory-boot: bundle download: the relay answered 401/);
    assert.equal(fs.existsSync(marker), false);
  });

  it('refuses a bundle entry outside the manifest\'s mounts (125)', async () => {
    const root = path.join(tmp, 'task-root-3');
    const manifest: BundleManifest = { schema_version: 1, mounts: [{ dir: 'm0', containerPath: '/work', readOnly: false }], cmd: ['true'], env: {}, workdir: '/work' };
    makeJob(relayDir, 'job-3', TOKEN, {}, packBundle(path.join(tmp, 'b3'), manifest, { m0: { a: 'a' }, m7: { evil: 'x' } }));
    const tokenFile = path.join(tmp, 'token');
    const r = await runBoot(built.boot, { [TASK_ENV.relayUrl]: `http://127.0.0.1:${relay.port}`, [TASK_ENV.jobId]: 'job-3', [TASK_ENV.tokenFile]: tokenFile, [BOOT_ROOT_ENV]: root });
    assert.equal(r.code, BOOT_EXIT_CODE);
    assert.match(r.stderr, /outside the manifest's mounts/);
    assert.equal(fs.existsSync(path.join(root, 'm7')), false);
  });

  it('exits 125 when the relay refuses the result over its cap, keeping none of it', async () => {
    const root = path.join(tmp, 'task-root-4');
    const script = `require('fs').writeFileSync(${JSON.stringify(path.join(root, 'work/big.bin'))}, require('crypto').randomBytes(3 * 1024 * 1024))`;
    const manifest: BundleManifest = { schema_version: 1, mounts: [{ dir: 'm0', containerPath: '/work', readOnly: false }], cmd: [process.execPath, '-e', script], env: {}, workdir: '/work' };
    const job = makeJob(relayDir, 'job-4', TOKEN, { maxResultBytes: 1024 * 1024 }, packBundle(path.join(tmp, 'b4'), manifest, { m0: { a: 'a' } }));
    const r = await runBoot(built.boot, { [TASK_ENV.relayUrl]: `http://127.0.0.1:${relay.port}`, [TASK_ENV.jobId]: 'job-4', [TASK_ENV.tokenFile]: path.join(tmp, 'token'), [BOOT_ROOT_ENV]: root });
    assert.equal(r.code, BOOT_EXIT_CODE, r.stderr);
    assert.match(r.stderr, /factory-boot: result upload: the relay answered 413/);
    assert.deepEqual(fs.readdirSync(job).filter((f) => f.startsWith('result')), []);
  });

  it('the relay process listens on RELAY_PORT, writes relay.ready, and exits 0 on SIGTERM', async () => {
    const dir = path.join(tmp, 'proc-run');
    fs.mkdirSync(dir);
    const child = spawn(process.execPath, [built.relay], { env: { [RELAY_ENV.port]: '0', [RELAY_ENV.dir]: dir }, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const ready = path.join(dir, RELAY_READY_FILE);
    for (let i = 0; i < 200 && !fs.existsSync(ready); i++) await new Promise((r) => setTimeout(r, 50));
    const info = JSON.parse(fs.readFileSync(ready, 'utf8')) as { port: number; pid: number };
    assert.equal(info.pid, child.pid);
    assert.equal((await call(info.port, 'GET', RELAY_ROUTES.health)).status, 200);
    assert.equal((await call(info.port, 'GET', RELAY_ROUTES.bundle('nojob'))).status, 401);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
