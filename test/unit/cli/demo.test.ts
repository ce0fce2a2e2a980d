import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from './cli-process';

describe('npm run demo (scripts/demo.mjs as a real process)', function () {
  this.timeout(120_000);

  it('builds, runs factory status on the example and says where the PDCA demo comes from', () => {
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts/demo.mjs')], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 110_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^built: .*dist\/cli\.mjs/m);
    assert.match(r.stdout, /^Progress +\d+\/\d+ ACs DONE/m);
    assert.match(r.stdout, /^Current +D\d+::AC-\d+/m);
    assert.match(r.stdout, /^Problems +none$/m);
    assert.match(r.stdout, /full PDCA demo .* arrives\s+with the cycle issue/s);
  });
});
