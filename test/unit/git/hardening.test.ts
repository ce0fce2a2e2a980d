import { strict as assert } from 'node:assert';
import { hardenedEnv, overridesFor, parseConfigEntries, type ConfigEntry } from '../../../src/core/git/hardening';

const local = (key: string, value: string): ConfigEntry => ({ scope: 'local', key, value });
const global = (key: string, value: string): ConfigEntry => ({ scope: 'global', key, value });

describe('src/core/git hardening: what a repository config is answered with', () => {
  it('parses git config --show-scope -z output, values with newlines included', () => {
    const out = 'local\0filter.x.clean\nrun me\0global\0credential.helper\nstore\0local\0core.askpass\nline1\nline2\0';
    assert.deepEqual(parseConfigEntries(out), [local('filter.x.clean', 'run me'), global('credential.helper', 'store'), local('core.askpass', 'line1\nline2')]);
  });

  it('a filter driver the repository defines gets the user\'s commands or none, and is never required', () => {
    const o = overridesFor([global('filter.lfs.process', 'git-lfs filter-process'), local('filter.lfs.clean', 'evil'), local('filter.x.smudge', 'evil'), local('filter.x.required', 'true')], {});
    assert.deepEqual(o.config, [
      'filter.lfs.clean=', 'filter.lfs.smudge=', 'filter.lfs.process=git-lfs filter-process', 'filter.lfs.required=false',
      'filter.x.clean=', 'filter.x.smudge=', 'filter.x.process=', 'filter.x.required=false',
    ]);
  });

  it('a filter driver whose name git cannot take through -c (an "=") is refused, never left on', () => {
    assert.throws(() => overridesFor([local('filter.a=b.clean', 'evil')], {}), /cannot turn off/);
  });

  it('a global-only filter (git-lfs installed by the user) is left alone', () => {
    assert.deepEqual(overridesFor([global('filter.lfs.process', 'git-lfs filter-process')], {}).config, []);
  });

  it('credential helpers: reset, then the user\'s own added back in order; none of the repository\'s', () => {
    const o = overridesFor([global('credential.helper', 'cache'), global('credential.https://example.test.helper', 'store'), local('credential.helper', 'evil'), local('credential.https://x.test.helper', 'evil2')], {});
    assert.deepEqual(o.config, ['credential.helper=', 'credential.helper=cache', 'credential.https://example.test.helper=store']);
    assert.deepEqual(overridesFor([global('credential.helper', 'cache')], {}).config, [], 'nothing to undo when only the user set helpers');
  });

  it('askPass, sshCommand and gitProxy from the repository are replaced by the user\'s or turned off', () => {
    const repo = [local('core.askpass', 'evil'), local('core.sshcommand', 'evil'), local('core.gitproxy', 'evil')];
    assert.deepEqual(overridesFor(repo, {}), { config: ['core.askPass='], env: { GIT_SSH_COMMAND: 'ssh', GIT_PROXY_COMMAND: '' } });
    assert.deepEqual(overridesFor([...repo, global('core.askpass', '/usr/bin/ask'), global('core.sshcommand', 'ssh -i key')], {}), { config: ['core.askPass=/usr/bin/ask'], env: { GIT_SSH_COMMAND: 'ssh -i key', GIT_PROXY_COMMAND: '' } });
    assert.deepEqual(overridesFor(repo, { GIT_SSH: "/opt/my ssh's" }).env.GIT_SSH_COMMAND, `'/opt/my ssh'\\''s'`);
    // The user's GIT_SSH_COMMAND / GIT_PROXY_COMMAND already win over the repository's config.
    assert.deepEqual(overridesFor(repo, { GIT_SSH_COMMAND: 'ssh -v', GIT_PROXY_COMMAND: 'p' }).env, {});
  });

  it('the child environment drops every GIT_* variable but the user\'s own, and pager/editor variables', () => {
    const env = hardenedEnv({ GIT_INDEX_FILE: '/tmp/i' }, { PATH: '/bin', HOME: '/h', GIT_DIR: '/elsewhere', GIT_WORK_TREE: '/w', GIT_CONFIG_PARAMETERS: "'core.hookspath'='x'", GIT_SSH_COMMAND: 'ssh -v', GIT_CONFIG_GLOBAL: '/g', PAGER: 'less', EDITOR: 'vi' });
    assert.deepEqual(env, { PATH: '/bin', HOME: '/h', GIT_SSH_COMMAND: 'ssh -v', GIT_CONFIG_GLOBAL: '/g', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', GIT_OPTIONAL_LOCKS: '0', GIT_INDEX_FILE: '/tmp/i' });
  });
});
