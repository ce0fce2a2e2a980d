import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { RELAY_JOB_FILES, RELAY_ROUTES } from '../../../src/core/contracts/relay-protocol';
import { call, fakeGateway, makeJob, startRelay, tempDir, type Running } from './fixture';

const TOKEN_A = 'token-a-0123456789abcdef0123456789abcdef';
const TOKEN_B = 'token-b-fedcba9876543210fedcba9876543210';

describe('swarm relay (src/relay/server.ts)', () => {
  let root: string;
  let relay: Running;
  let jobA: string;
  const bundle = Buffer.from('pretend tar bytes '.repeat(1000));

  before(async () => {
    root = tempDir('relay-');
    jobA = makeJob(root, 'job-a', TOKEN_A, { maxResultBytes: 64 * 1024 }, bundle);
    makeJob(root, 'job-b', TOKEN_B, { gateway: false }, Buffer.from('b'));
    relay = await startRelay(root, 256 * 1024);
  });
  after(async () => {
    await relay.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('answers health without a token', async () => {
    assert.equal((await call(relay.port, 'GET', RELAY_ROUTES.health)).status, 200);
  });

  it('SEC-02 refuses a missing token, a wrong one and another job\'s, and never logs the token', async () => {
    assert.equal((await call(relay.port, 'GET', RELAY_ROUTES.bundle('job-a'))).status, 401);
    assert.equal((await call(relay.port, 'GET', RELAY_ROUTES.bundle('job-a'), { token: `${TOKEN_A}x` })).status, 401);
    assert.equal((await call(relay.port, 'GET', RELAY_ROUTES.bundle('job-a'), { token: TOKEN_B })).status, 401);
    assert.equal((await call(relay.port, 'GET', RELAY_ROUTES.bundle('job-a'), { headers: { authorization: `Basic ${TOKEN_A}` } })).status, 401);
    assert.equal((await call(relay.port, 'GET', RELAY_ROUTES.bundle('job-nope'), { token: TOKEN_A })).status, 401);
    // none of those consumed the one-time bundle
    assert.equal(fs.existsSync(path.join(jobA, RELAY_JOB_FILES.bundleServed)), false);
    const text = JSON.stringify(relay.logs);
    assert.ok(relay.logs.some((l) => l.status === 401 && l.reason === 'wrong token' && l.job === 'job-a'));
    assert.ok(!text.includes(TOKEN_A.slice(8)) && !text.includes(TOKEN_B.slice(8)), text);
  });

  it('survives malformed requests', async () => {
    for (const raw of ['GARBAGE\r\n\r\n', 'GET /jobs/job-a/bundle HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \u0000\r\n\r\n', 'PUT /jobs/job-a/result HTTP/1.1\r\nContent-Length: -5\r\n\r\n']) {
      const answer = await new Promise<string>((resolve) => {
        const sock = net.connect(relay.port, '127.0.0.1', () => sock.end(raw));
        let got = '';
        sock.on('data', (c: Buffer) => (got += c.toString()));
        sock.on('close', () => resolve(got));
        sock.on('error', () => resolve(got));
      });
      assert.match(answer, /^HTTP\/1\.1 4\d\d /, raw);
    }
    assert.equal((await call(relay.port, 'GET', RELAY_ROUTES.health)).status, 200);
  });

  it('answers 404 for a job id outside the pattern, never touching the path', async () => {
    for (const p of ['/jobs/JOB-A/bundle', '/jobs/..%2F..%2Fetc/bundle', '/jobs/-a/bundle', '/jobs//bundle', '/jobs/job.a/bundle', `/jobs/${'a'.repeat(49)}/bundle`, '/nothing']) {
      assert.equal((await call(relay.port, 'GET', p, { token: TOKEN_A })).status, 404, p);
    }
    assert.equal((await call(relay.port, 'GET', '/jobs/job-a/other', { token: TOKEN_A })).status, 404);
  });

  it('serves the bundle once, then 410', async () => {
    const first = await call(relay.port, 'GET', RELAY_ROUTES.bundle('job-a'), { token: TOKEN_A });
    assert.equal(first.status, 200);
    assert.deepEqual(first.body, bundle);
    assert.equal(first.headers['content-length'], String(bundle.length));
    const second = await call(relay.port, 'GET', RELAY_ROUTES.bundle('job-a'), { token: TOKEN_A });
    assert.equal(second.status, 410);
    // the token still works for the result and the model route
    assert.equal((await call(relay.port, 'POST', RELAY_ROUTES.bundle('job-a'), { token: TOKEN_A })).status, 405);
  });

  it('refuses a result over the cap (streamed or declared) and keeps nothing, then takes one result once', async () => {
    const chunk = Buffer.alloc(16 * 1024, 7);
    const over = await call(relay.port, 'PUT', RELAY_ROUTES.result('job-a'), { token: TOKEN_A, body: Array(5).fill(chunk) });
    assert.equal(over.status, 413);
    const declared = await call(relay.port, 'PUT', RELAY_ROUTES.result('job-a'), { token: TOKEN_A, body: Buffer.alloc(64 * 1024 + 1) });
    assert.equal(declared.status, 413);
    assert.deepEqual(fs.readdirSync(jobA).filter((f) => f.startsWith('result')), []);
    const ok = await call(relay.port, 'PUT', RELAY_ROUTES.result('job-a'), { token: TOKEN_A, body: Array(4).fill(chunk) });
    assert.equal(ok.status, 201);
    assert.deepEqual(fs.readFileSync(path.join(jobA, RELAY_JOB_FILES.result)), Buffer.concat(Array(4).fill(chunk)));
    const again = await call(relay.port, 'PUT', RELAY_ROUTES.result('job-a'), { token: TOKEN_A, body: Buffer.from('x') });
    assert.equal(again.status, 409);
    assert.equal(fs.statSync(path.join(jobA, RELAY_JOB_FILES.result)).size, 64 * 1024);
    assert.equal(fs.existsSync(path.join(jobA, RELAY_JOB_FILES.resultPart)), false);
  });

  it('drops the part of an aborted upload, so the task may upload again', async () => {
    const job = makeJob(root, 'job-c', TOKEN_A);
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: relay.port, method: 'PUT', path: RELAY_ROUTES.result('job-c'), agent: false, headers: { authorization: `Bearer ${TOKEN_A}` } });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(8 * 1024));
      setTimeout(() => {
        assert.equal(fs.existsSync(path.join(job, RELAY_JOB_FILES.resultPart)), true);
        req.destroy();
        resolve();
      }, 200);
    });
    for (let i = 0; i < 100 && fs.existsSync(path.join(job, RELAY_JOB_FILES.resultPart)); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(fs.existsSync(path.join(job, RELAY_JOB_FILES.resultPart)), false);
    assert.equal(fs.existsSync(path.join(job, RELAY_JOB_FILES.result)), false);
    assert.equal((await call(relay.port, 'PUT', RELAY_ROUTES.result('job-c'), { token: TOKEN_A, body: Buffer.from('whole') })).status, 201);
  });

  it('refuses the model route to a job without a gateway, and answers 502 when the socket is absent', async () => {
    assert.equal((await call(relay.port, 'POST', `${RELAY_ROUTES.model('job-b')}/v1/messages`, { token: TOKEN_B, body: Buffer.from('{}') })).status, 403);
    const gone = await call(relay.port, 'POST', `${RELAY_ROUTES.model('job-a')}/v1/messages`, { token: TOKEN_A, body: Buffer.from('{}') });
    assert.equal(gone.status, 502);
  });

  describe('model proxy', () => {
    let gateway: Awaited<ReturnType<typeof fakeGateway>>;
    let release: () => void = () => undefined;
    before(async () => {
      gateway = await fakeGateway(path.join(jobA, RELAY_JOB_FILES.gatewaySocket), (req, res) => {
        if (req.url.startsWith('/v1/stream')) {
          res.writeHead(200, { 'content-type': 'text/event-stream', connection: 'keep-alive', 'x-upstream': 'yes' });
          res.write('data: one\n\n');
          // the second event only once the client has seen the first: proves chunks are not held back
          release = () => res.end('data: two\n\n');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ echo: req.body.length }));
      });
    });
    after(() => gateway.close());

    it('SEC-24 streams SSE chunk by chunk and forwards method, path, query and body without the token or Host (the relay holds no key: the gateway on the Controller injects it)', async () => {
      const body = JSON.stringify({ model: 'm', stream: true });
      const events: string[] = [];
      const done = new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port: relay.port, method: 'POST', path: `${RELAY_ROUTES.model('job-a')}/v1/stream?beta=1`, agent: false, headers: { authorization: `Bearer ${TOKEN_A}`, 'content-type': 'application/json', 'x-api-key': 'placeholder', 'proxy-authorization': 'p' } },
          (res) => {
            res.setEncoding('utf8');
            res.on('data', (c: string) => {
              events.push(c);
              if (events.length === 1) setTimeout(() => release(), 50);
            });
            res.on('end', () => resolve(res));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      const res = await done;
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['x-upstream'], 'yes');
      assert.equal(res.headers['content-type'], 'text/event-stream');
      assert.deepEqual(events, ['data: one\n\n', 'data: two\n\n']);
      const seen = gateway.seen.at(-1)!;
      assert.equal(seen.method, 'POST');
      assert.equal(seen.url, '/v1/stream?beta=1');
      assert.equal(seen.body, body);
      assert.equal(seen.headers.authorization, undefined);
      assert.equal(seen.headers['proxy-authorization'], undefined);
      assert.notEqual(seen.headers.host, `127.0.0.1:${relay.port}`);
      assert.equal(seen.headers['content-type'], 'application/json');
    });

    it('refuses a model request body over the cap with 413, the gateway never called', async () => {
      const before = gateway.seen.length;
      const big = await call(relay.port, 'POST', `${RELAY_ROUTES.model('job-a')}/v1/messages`, { token: TOKEN_A, body: Array(20).fill(Buffer.alloc(16 * 1024)) });
      assert.equal(big.status, 413);
      assert.equal(gateway.seen.length, before);
      const small = await call(relay.port, 'POST', `${RELAY_ROUTES.model('job-a')}/v1/messages`, { token: TOKEN_A, body: Buffer.from('hello') });
      assert.equal(small.status, 200);
      assert.deepEqual(JSON.parse(small.body.toString()), { echo: 5 });
    });
  });
});
