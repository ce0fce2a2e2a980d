import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { forwardGateway } from '../../../src/core/backend/swarm/gateway-forward';
import { taskPath } from '../../../src/core/backend/swarm/swarm-task';
import { shippedMounts } from '../../../src/core/backend/swarm/swarm-worker';

describe('swarm Worker job: what is shipped, where it lands, the gateway forward', () => {
  it('ships the workspace, plan, output, task and agent folders as m<k>; not the nested read-only overlays nor the gateway folder', () => {
    const { shipped, gateway } = shippedMounts([
      { hostPath: '/s/ws', containerPath: '/workspace', readOnly: false },
      { hostPath: '/s/ws/scripts', containerPath: '/workspace/scripts', readOnly: true },
      { hostPath: '/s/ws/.env', containerPath: '/workspace/.env', readOnly: true },
      { hostPath: '/s/control', containerPath: '/factory/plan', readOnly: true },
      { hostPath: '/s/out', containerPath: '/factory/out', readOnly: false },
      { hostPath: '/t/task', containerPath: '/factory/task', readOnly: true },
      { hostPath: '/t/agent', containerPath: '/factory/agent', readOnly: false },
      { hostPath: '/t/gw', containerPath: '/factory/gateway', readOnly: true },
    ]);
    assert.deepEqual(
      shipped.map((m) => [m.dir, m.containerPath, m.readOnly]),
      [
        ['m0', '/workspace', false],
        ['m1', '/factory/plan', true],
        ['m2', '/factory/out', false],
        ['m3', '/factory/task', true],
        ['m4', '/factory/agent', false],
      ],
    );
    assert.deepEqual(gateway, { hostSocket: '/t/gw/gateway.sock', containerSocket: '/factory/gateway/gateway.sock', containerDir: '/factory/gateway' });
  });

  it('the task works in /factory/workspace (the image\'s /workspace would be a root-owned tmpfs)', () => {
    assert.equal(taskPath('/workspace'), '/factory/workspace');
    assert.equal(taskPath('/workspace/sub'), '/factory/workspace/sub');
    assert.equal(taskPath('/workspaces'), '/workspaces');
    assert.equal(taskPath('/factory/out'), '/factory/out');
  });

  it('forwards each connection on the job socket to the gateway socket, byte for byte, owner-only', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-fwd-'));
    const target = path.join(dir, 'gateway.sock');
    const upstream = net.createServer((s) => s.on('data', (d: Buffer) => s.end(`echo:${d.toString()}`)));
    await new Promise<void>((r) => upstream.listen(target, r));
    const listen = path.join(dir, 'job.sock');
    const fwd = await forwardGateway(listen, target);
    try {
      assert.equal((fs.statSync(listen).mode & 0o777).toString(8), '600');
      const reply = await new Promise<string>((resolve, reject) => {
        const c = net.connect(listen, () => c.write('ping'));
        let got = '';
        c.on('data', (d: Buffer) => (got += d.toString()));
        c.on('end', () => resolve(got));
        c.on('error', reject);
      });
      assert.equal(reply, 'echo:ping');
    } finally {
      await fwd.close();
      await new Promise<void>((r) => upstream.close(() => r()));
      assert.equal(fs.existsSync(listen), false, 'the socket file is gone after close');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
