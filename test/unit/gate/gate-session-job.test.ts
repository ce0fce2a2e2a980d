import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { gateSessionJob } from '../../../src/core/gate/container-runner';
import { buildCreateOptions, validateSpec } from '../../../src/core/sandbox/container-spec';
import { SCRUB_SCRIPT, keepAliveUser } from '../../../src/core/sandbox/exec-session';
import { buildJobSpec } from '../../../src/core/sandbox/job';

const opts = { treeDir: '/srv/staging/ws', image: 'img', limits: { memoryMb: 512, cpus: 1, pidsLimit: 128, tmpfsMb: 32 }, user: '1000:1000', readOnly: true, runId: 'r1', ticket: 'T1' };

describe('the Gate\'s one container (create body)', () => {
  it('SEC-01 the gate session container: the whole hardening, its keep-alive as another user, the tmpfs folders the steps\' user\'s', () => {
    const job = gateSessionJob(opts, 120_000, opts.treeDir);
    const spec = buildJobSpec({ ...job, mainUser: keepAliveUser(job.user!) });
    validateSpec(spec);
    const body = buildCreateOptions(spec, 0, 5_000);
    assert.equal(body.User, '65534:65534');
    const hc = body.HostConfig!;
    assert.equal(hc.NetworkMode, 'none');
    assert.deepEqual(hc.CapDrop, ['ALL']);
    assert.equal(hc.ReadonlyRootfs, true);
    assert.deepEqual(hc.SecurityOpt, ['no-new-privileges']);
    assert.match(hc.Tmpfs!['/tmp'], /uid=1000,gid=1000/);
    assert.match(hc.Tmpfs!['/home/worker'], /uid=1000,gid=1000,mode=0700/);
    assert.equal(body.Labels!['factory.role'], 'gate');
    assert.equal(body.Labels!['factory.deadline'], String(125_000), 'the deadline covers the whole Gate');
    assert.deepEqual(body.Env!.filter((e) => /^(CI|NO_COLOR)=/.test(e)).sort(), ['CI=true', 'NO_COLOR=1']);
    assert.deepEqual(hc.Mounts!.map((m) => [m.Target, m.ReadOnly]), [['/workspace', true]]);
  });

  it('the keep-alive is never the steps\' uid, and a root tmpfs owner is refused', () => {
    assert.equal(keepAliveUser('1000:1000'), '65534:65534');
    assert.equal(keepAliveUser('65534:65534'), '65533:65533');
    const spec = buildJobSpec({ ...gateSessionJob(opts, 1_000, opts.treeDir), mainUser: '65534:65534' });
    assert.throws(() => validateSpec({ ...spec, tmpfsOwner: '0:0' }), /non-root/);
  });

  it('the scrub script is valid POSIX sh', () => {
    execFileSync('sh', ['-n', '-c', SCRUB_SCRIPT]);
  });
});
