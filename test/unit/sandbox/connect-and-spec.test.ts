import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import { resolveEndpoint, dockerOptions, describeEndpoint } from '../../../src/core/docker/connect';
import { buildCreateOptions, validateSpec, type ContainerSpec } from '../../../src/core/sandbox/container-spec';
import { AttachDemuxer } from '../../../src/core/sandbox/engine-calls';
import { isOwnTempFolder } from '../../../src/core/sandbox/staging-root';
import { FactoryError } from '../../../src/core/util/errors';
import { assertLockedDown } from '../../support/hardening';

const spec: ContainerSpec = {
  image: 'img',
  cmd: ['true'],
  mounts: [{ hostPath: '/tmp/factory-x/workspace', containerPath: '/workspace', readOnly: false }],
  limits: { memoryMb: 512, cpus: 1.5, pidsLimit: 100, tmpfsMb: 32 },
  labels: { runId: 'r', ticket: 'T', role: 'gate' },
  timeoutMs: 1000,
};

describe('sandbox: engine address and hardening profile (pure parts)', () => {
  it('resolves DOCKER_HOST: unix, tcp (+TLS), bare host:port, ssh; local socket otherwise', () => {
    assert.deepEqual(resolveEndpoint({ DOCKER_HOST: 'unix:///run/x.sock' }), { kind: 'unix', socketPath: '/run/x.sock' });
    assert.deepEqual(resolveEndpoint({ DOCKER_HOST: 'tcp://127.0.0.1:2375' }), { kind: 'tcp', host: '127.0.0.1', port: 2375, tls: false });
    assert.deepEqual(resolveEndpoint({ DOCKER_HOST: 'tcp://127.0.0.1:1234', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/c' }), { kind: 'tcp', host: '127.0.0.1', port: 1234, tls: true, certPath: '/c' });
    assert.deepEqual(resolveEndpoint({ DOCKER_HOST: '127.0.0.1:2376', HOME: '/h' }), { kind: 'tcp', host: '127.0.0.1', port: 2376, tls: true, certPath: '/h/.docker' });
    assert.deepEqual(resolveEndpoint({ DOCKER_HOST: 'ssh://me@builder:2222' }), { kind: 'ssh', host: 'builder', port: 2222, username: 'me' });
    assert.deepEqual(resolveEndpoint({}, (p) => p === '/var/run/docker.sock'), { kind: 'unix', socketPath: '/var/run/docker.sock' });
    assert.equal(describeEndpoint({ kind: 'tcp', host: 'h', port: 1, tls: true }), 'tcp+tls://h:1');
    assert.deepEqual(dockerOptions({ kind: 'unix', socketPath: '/s' }), { socketPath: '/s', host: undefined, port: undefined, protocol: undefined });
  });

  it('says clearly when there is no engine or DOCKER_HOST is malformed', () => {
    assert.throws(() => resolveEndpoint({ HOME: '/nowhere' }, () => false), (e: unknown) => e instanceof FactoryError && /no Docker engine: DOCKER_HOST is not set and no socket exists/.test(e.message));
    assert.throws(() => resolveEndpoint({ DOCKER_HOST: 'ftp://x' }), /unsupported scheme/);
    assert.throws(() => resolveEndpoint({ DOCKER_HOST: 'unix://' }), /missing socket path/);
  });

  it('SEC-01 the create body carries the whole hardening profile', () => {
    const b = buildCreateOptions(spec, 1_000, 500);
    const hc = b.HostConfig!;
    assertLockedDown(b);
    assert.equal(hc.Init, true);
    assert.equal(hc.Memory, 512 * 1024 * 1024);
    assert.equal(hc.NanoCpus, 1.5e9);
    assert.equal(hc.PidsLimit, 100);
    assert.match(hc.Tmpfs!['/tmp'], /size=32m/);
    assert.equal(b.User, '1000:1000');
    assert.equal(b.Labels!['factory.deadline'], '2500');
    assert.equal(b.Labels!['factory.role'], 'gate');
    assert.equal(b.Labels!['factory.owner'], `${os.hostname()}:${process.pid}`);
  });

  it('SEC-01 refuses root users, engine sockets, .git folders and the home folder as mounts', () => {
    const bad = (over: Partial<ContainerSpec>) => assert.throws(() => validateSpec({ ...spec, ...over }), FactoryError);
    bad({ user: '0:0' });
    bad({ user: 'root' });
    bad({ mounts: [{ hostPath: '/var/run/docker.sock', containerPath: '/var/run/docker.sock', readOnly: true }] });
    bad({ mounts: [{ hostPath: '/srv/repo/.git', containerPath: '/g', readOnly: true }] });
    bad({ mounts: [{ hostPath: os.homedir(), containerPath: '/h', readOnly: true }] });
    bad({ mounts: [{ hostPath: '/', containerPath: '/h', readOnly: true }] });
    bad({ limits: { memoryMb: 0, cpus: 1, pidsLimit: 10, tmpfsMb: 1 } });
    validateSpec(spec);
  });

  it('demultiplexes attach frames split at any byte', () => {
    const frame = (type: number, text: string) => {
      const payload = Buffer.from(text);
      const header = Buffer.alloc(8);
      header[0] = type;
      header.writeUInt32BE(payload.length, 4);
      return Buffer.concat([header, payload]);
    };
    const all = Buffer.concat([frame(1, 'hello '), frame(2, 'oops'), frame(1, 'world')]);
    for (let cut = 1; cut < all.length; cut++) {
      const got = { stdout: '', stderr: '' };
      const d = new AttachDemuxer((s, c) => (got[s] += c.toString()));
      d.push(all.subarray(0, cut));
      d.push(all.subarray(cut));
      assert.deepEqual(got, { stdout: 'hello world', stderr: 'oops' }, `split at ${cut}`);
    }
  });

  it('the reaper deletes only folders it could have created', () => {
    assert.equal(isOwnTempFolder(`${os.tmpdir()}/factory-run-abc`), true);
    assert.equal(isOwnTempFolder(`${os.tmpdir()}/other`), false);
    assert.equal(isOwnTempFolder(`${os.tmpdir()}/factory-x/../../etc`), false);
    assert.equal(isOwnTempFolder('/home/user/factory-x'), false);
  });
});
