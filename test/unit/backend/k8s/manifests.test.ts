import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import {
  containerJobManifests, jobManifest, jobNetworkPolicy, relayDeployment, relayNetworkPolicy, relayService, runManifests, tokenSecret, type K8sRun,
} from '../../../../src/core/backend/k8s/manifests';
import { labelValue } from '../../../../src/core/backend/k8s/k8s-meta';
import { buildJobSpec } from '../../../../src/core/sandbox/job';
import { LABELS } from '../../../../src/core/sandbox/container-spec';
import { docsExampleText, EXAMPLE_JOB_ID, EXAMPLE_RUN, EXAMPLE_WORKER_JOB, exampleManifests } from './example';

/** The official schemas (kubernetes-models bundles them, ajv validates): one model class per kind. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = { Job, Secret, Deployment, Service, NetworkPolicy, ConfigMap };

function validate(manifest: unknown): void {
  const kind = (manifest as { kind?: string }).kind ?? '';
  const Model = MODELS[kind];
  assert.ok(Model, `no schema for kind ${kind}`);
  new Model(structuredClone(manifest) as never).validate();
}

type Node = Record<string | number, unknown>;

/** A deep copy with the value at `at` replaced (undefined: deleted): a broken manifest for the validator to reject. */
function broken<T>(m: T, at: (string | number)[], value?: unknown): T {
  const copy = structuredClone(m) as Node;
  let node = copy;
  for (const k of at.slice(0, -1)) node = node[k] as Node;
  const last = at[at.length - 1];
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy as T;
}

const TOKEN = 'tok_0123456789abcdef0123456789';

describe('Kubernetes on paper: manifests from the one job description (backend/k8s)', () => {
  const [job, secret] = containerJobManifests(EXAMPLE_WORKER_JOB, EXAMPLE_JOB_ID, TOKEN, EXAMPLE_RUN);
  const pod = job.spec!.template.spec!;
  const container = pod.containers[0];

  it('every generated manifest passes the Kubernetes schemas (a run, a Worker job, a Gate job, a claim-backed relay)', () => {
    const gate = jobManifest(buildJobSpec({ ...EXAMPLE_WORKER_JOB, role: 'gate', mounts: [EXAMPLE_WORKER_JOB.mounts[0]], user: '1001:1001', mainUser: '65534:65534' }), 'g-d1-1-0', EXAMPLE_RUN);
    const claimRun: K8sRun = { ...EXAMPLE_RUN, runVolume: { kind: 'claim', claimName: 'factory-runs' }, relayCmd: ['node', '/opt/factory/relay.js'], nodeSelector: {} };
    const all = [...exampleManifests(), gate, ...runManifests(claimRun, 'x'), tokenSecret('g-d1-1-0', TOKEN, claimRun)];
    assert.equal(all.length, 14);
    for (const m of all) validate(m);
  });

  it('the validator can fail: a wrong type, a missing required field, a bad enum or quantity are each rejected', () => {
    const cases: [string, unknown][] = [
      ['backoffLimit as a string', broken(job, ['spec', 'backoffLimit'], 'none')],
      ['a container without a name', broken(job, ['spec', 'template', 'spec', 'containers', 0, 'name'])],
      ['a Job without a pod template', broken(job, ['spec', 'template'])],
      ['restartPolicy Sometimes', broken(job, ['spec', 'template', 'spec', 'restartPolicy'], 'Sometimes')],
      ['a sizeLimit that is no quantity', broken(job, ['spec', 'template', 'spec', 'volumes', 0, 'emptyDir', 'sizeLimit'], 'lots')],
      ['a NetworkPolicy without podSelector', broken(jobNetworkPolicy(EXAMPLE_RUN), ['spec', 'podSelector'])],
      ['a Service port as text', broken(relayService(EXAMPLE_RUN), ['spec', 'ports', 0, 'port'], 'eighty')],
      ['a Deployment without selector', broken(relayDeployment(EXAMPLE_RUN), ['spec', 'selector'])],
      ['Secret stringData as a number', broken(secret, ['stringData', 'token'], 42)],
    ];
    for (const [what, m] of cases) assert.throws(() => validate(m), /must/, `${what} passed the schema`);
  });

  it('the Worker Job: one pod, no retry, the time cap, clean-up after it ends, the role and run labels', () => {
    assert.equal(job.metadata!.name, `factory-${EXAMPLE_JOB_ID}`);
    assert.equal(job.spec!.backoffLimit, 0);
    assert.equal(job.spec!.activeDeadlineSeconds, 30 * 60);
    assert.equal(job.spec!.ttlSecondsAfterFinished, 600);
    assert.equal(pod.restartPolicy, 'Never');
    const labels = job.spec!.template.metadata!.labels!;
    assert.equal(labels[LABELS.role], 'worker');
    assert.equal(labels[LABELS.runId], EXAMPLE_RUN.runId);
    assert.equal(labels['factory.component'], 'job');
    assert.deepEqual(pod.nodeSelector, EXAMPLE_RUN.nodeSelector);
  });

  it('the hardening of the local pipeline, as a securityContext: non-root, read-only root, no escalation, no capabilities, RuntimeDefault seccomp, no service-account token', () => {
    assert.deepEqual(container.securityContext, {
      runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false,
      capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.hostNetwork, false);
    assert.equal(pod.securityContext!.runAsNonRoot, true);
    assert.deepEqual(container.resources!.limits, { memory: '2048Mi', cpu: '1000m' });
    assert.deepEqual(container.resources!.requests, container.resources!.limits, 'requests = limits: the scheduler reserves what the job may use');
  });

  it('folders: each host mount an emptyDir capped at the growth cap, /tmp and the home memory-backed and size-capped, the token read-only from its Secret', () => {
    const vols = new Map(pod.volumes!.map((v) => [v.name, v]));
    const mounts = new Map(container.volumeMounts!.map((m) => [m.mountPath, m]));
    EXAMPLE_WORKER_JOB.mounts.forEach((m, k) => {
      assert.equal(mounts.get(m.containerPath)?.name, `m${k}`);
      assert.deepEqual(vols.get(`m${k}`)?.emptyDir, { sizeLimit: '1024Mi' });
    });
    for (const p of ['/tmp', '/home/worker']) assert.deepEqual(vols.get(mounts.get(p)!.name)?.emptyDir, { medium: 'Memory', sizeLimit: '256Mi' });
    assert.equal(mounts.get('/run/secrets/factory')?.readOnly, true);
    assert.equal(mounts.get('/opt/factory/boot')?.readOnly, true);
    assert.deepEqual(container.command, ['node', '/opt/factory/boot/swarm-boot.js'], 'the pod runs the boot script; the job command comes in the bundle');
    assert.equal(vols.get('token')?.secret?.secretName, secret.metadata!.name);
    assert.ok(!pod.volumes!.some((v) => v.hostPath), 'a job pod has no host folder');
    const env = Object.fromEntries(container.env!.map((e) => [e.name, e.value]));
    assert.equal(env.FACTORY_RELAY_URL, 'http://factory-relay-run-4711-m1abc.factory.svc:8080');
    assert.equal(env.FACTORY_TOKEN_FILE, '/run/secrets/factory/token');
    assert.ok(!Object.values(env).includes(TOKEN), 'the token is never in the environment');
    assert.equal(secret.stringData!.token, TOKEN);
  });

  it('network: job pods reach only the run relay (and DNS), nothing reaches them; the relay takes only the run jobs and reaches nothing', () => {
    const jobs = jobNetworkPolicy(EXAMPLE_RUN).spec!;
    assert.deepEqual(jobs.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(jobs.ingress, []);
    assert.deepEqual(jobs.podSelector.matchLabels, { [LABELS.managed]: '1', [LABELS.runId]: EXAMPLE_RUN.runId, 'factory.component': 'job' });
    const podLabels = job.spec!.template.metadata!.labels!;
    for (const [k, v] of Object.entries(jobs.podSelector.matchLabels)) assert.equal(podLabels[k], v, `the policy selects the Worker pod (${k})`);
    const relayLabels = relayDeployment(EXAMPLE_RUN).spec!.template.metadata!.labels!;
    assert.deepEqual(jobs.egress![0].to![0].podSelector!.matchLabels, relayLabels);
    assert.deepEqual(jobs.egress![0].ports, [{ protocol: 'TCP', port: 8080 }]);
    assert.ok(jobs.egress!.slice(1).every((r) => r.ports!.every((p) => p.port === 53)), 'the only other egress is DNS');
    const relay = relayNetworkPolicy(EXAMPLE_RUN).spec!;
    assert.deepEqual(relay.egress, []);
    assert.deepEqual(relay.ingress![0].from![0].podSelector!.matchLabels, jobs.podSelector.matchLabels);
    const svc = relayService(EXAMPLE_RUN).spec!;
    assert.equal(svc.clusterIP, 'None', 'headless: the name resolves to the relay pod (dnsrr)');
    assert.deepEqual(svc.selector, relayLabels);
    const dep = relayDeployment(EXAMPLE_RUN).spec!.template.spec!;
    assert.deepEqual(dep.nodeSelector, { 'kubernetes.io/hostname': 'controller-1' }, 'the relay runs where the run folder is');
    const relay0 = dep.containers[0];
    assert.deepEqual(relay0.env, [{ name: 'RELAY_PORT', value: '8080' }, { name: 'RELAY_DIR', value: '/relay' }], 'the relay\'s own environment (src/relay/main.ts)');
    assert.equal(relay0.securityContext?.readOnlyRootFilesystem, true);
    assert.deepEqual(relay0.securityContext?.capabilities, { drop: ['ALL'] });
    assert.equal(dep.automountServiceAccountToken, false);
  });

  it('refuses what the local pipeline refuses (root, a .git folder) and names Kubernetes cannot take', () => {
    assert.throws(() => containerJobManifests({ ...EXAMPLE_WORKER_JOB, user: '0:0' }, 'w-1', TOKEN, EXAMPLE_RUN), /non-root/);
    const git = { ...EXAMPLE_WORKER_JOB, mounts: [{ hostPath: '/srv/repo/.git', containerPath: '/workspace/.git', readOnly: true }] };
    assert.throws(() => containerJobManifests(git, 'w-1', TOKEN, EXAMPLE_RUN), /\.git/);
    assert.throws(() => containerJobManifests(EXAMPLE_WORKER_JOB, 'Bad_Id', TOKEN, EXAMPLE_RUN), /job id/);
    assert.throws(() => relayService({ ...EXAMPLE_RUN, runId: 'x'.repeat(60) }), /object name/);
    assert.throws(() => tokenSecret('w-1', 'short', EXAMPLE_RUN), /16 characters/);
    assert.equal(labelValue('repo:/srv/my repo/'), 'repo--srv-my-repo');
  });

  it('docs/scale.md shows exactly what the code generates (print it: npx tsx test/unit/backend/k8s/print-example.ts --docs)', () => {
    const doc = fs.readFileSync(path.join(__dirname, '../../../../docs/scale.md'), 'utf8');
    const m = /<!-- k8s-example:begin -->\n```yaml\n([\s\S]*?)```\n<!-- k8s-example:end -->/.exec(doc);
    assert.ok(m, 'docs/scale.md has the k8s-example block');
    assert.equal(m[1], docsExampleText());
  });
});
