import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigCache, parseOriginEntries, type OriginEntry } from '../../../src/core/git/config-cache';
import { gitConfigReads, runGit } from '../../../src/core/git/git';
import { plainGit } from './hostile-fixture';

/** The entries `git config --show-origin` gives for `dir` (what a read would store). */
function readEntries(dir: string, env: NodeJS.ProcessEnv): OriginEntry[] {
  try {
    return parseOriginEntries(plainGit(dir, ['config', '--show-scope', '--show-origin', '-z', '--get-regexp', '^(filter\\..+|include\\.path|includeif\\..+\\.path)$'], env));
  } catch {
    return []; // exit 1: no such key
  }
}

describe('src/core/git config cache: a repository config is read once while its files are unchanged', function () {
  this.timeout(30_000);
  let tmp: string;
  let repo: string;
  let env: NodeJS.ProcessEnv;
  // A clock far ahead: the "changed within the last tick" rule never applies, so only the key decides.
  const later = () => Date.now() + 60_000;

  beforeEach(() => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'factory-cfgcache-')));
    repo = path.join(tmp, 'repo');
    plainGit(tmp, ['init', '-q', '-b', 'main', repo]);
    fs.writeFileSync(path.join(tmp, 'global'), '[user]\n\tname = u\n');
    env = { ...process.env, GIT_CONFIG_GLOBAL: path.join(tmp, 'global'), GIT_CONFIG_NOSYSTEM: '1' };
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** Look up, read and store once; then whether a second lookup is a hit. */
  function primed(cache: ConfigCache, dir = repo): void {
    const first = cache.lookup(dir, env);
    assert.ok('ticket' in first, 'nothing is remembered before the first read');
    cache.store(first.ticket, readEntries(dir, env));
  }
  const hit = (cache: ConfigCache, dir = repo) => 'entries' in cache.lookup(dir, env);

  it('a second lookup is a hit; a change to .git/config (git config) is read again', () => {
    const cache = new ConfigCache(later);
    primed(cache);
    assert.equal(hit(cache), true);
    plainGit(repo, ['config', 'filter.x.clean', 'cat']);
    assert.equal(hit(cache), false, 'the changed .git/config must be read again');
    primed(cache);
    const got = cache.lookup(repo, env);
    assert.ok('entries' in got && got.entries.some((e) => e.key === 'filter.x.clean' && e.scope === 'local'), JSON.stringify(got));
  });

  it('the user\'s global file, the variables that choose it, and a new repository closer to the folder change the key', () => {
    const cache = new ConfigCache(later);
    const sub = path.join(repo, 'pkg', 'deep');
    fs.mkdirSync(sub, { recursive: true });
    primed(cache);
    primed(cache, sub);
    fs.appendFileSync(path.join(tmp, 'global'), '[credential]\n\thelper = store\n');
    assert.equal(hit(cache), false, 'global file changed');
    primed(cache);
    env = { ...env, GIT_CONFIG_GLOBAL: path.join(tmp, 'other') };
    assert.equal(hit(cache), false, 'GIT_CONFIG_GLOBAL changed');
    primed(cache, sub);
    assert.equal(hit(cache, sub), true);
    plainGit(tmp, ['init', '-q', path.join(repo, 'pkg')]);
    assert.equal(hit(cache, sub), false, 'pkg/.git now decides the repository');
  });

  it('a folder reached through a symlink is keyed by the repository git finds from its real path', () => {
    const cache = new ConfigCache(later);
    // tmp/outer is a repository; tmp/outer/link points into repo: git (from the real path) reads repo's config.
    const outer = path.join(tmp, 'outer');
    plainGit(tmp, ['init', '-q', outer]);
    fs.mkdirSync(path.join(repo, 'sub'));
    fs.symlinkSync(path.join(repo, 'sub'), path.join(outer, 'link'));
    const via = path.join(outer, 'link');
    primed(cache, via);
    assert.equal(hit(cache, via), true);
    plainGit(repo, ['config', 'filter.z.clean', 'cat']);
    assert.equal(hit(cache, via), false, 'the config git reads (repo/.git/config) changed');
  });

  it('a file an include.path names is part of the key, and an include added later is followed', () => {
    const cache = new ConfigCache(later);
    fs.writeFileSync(path.join(tmp, 'inc.cfg'), '[core]\n\tbare = false\n');
    plainGit(repo, ['config', 'include.path', '../../inc.cfg']);
    // The first read learns the included file; only a read keyed by it is remembered.
    primed(cache);
    assert.equal(hit(cache), false, 'the include was not part of the first key');
    primed(cache);
    assert.equal(hit(cache), true);
    fs.writeFileSync(path.join(tmp, 'inc.cfg'), '[filter "y"]\n\tsmudge = cat\n');
    assert.equal(hit(cache), false, 'the included file changed');
  });

  it('a config changed within the last clock tick is never remembered', () => {
    const cache = new ConfigCache(); // the real clock: .git/config was just written by git init
    primed(cache);
    assert.equal(hit(cache), false);
  });

  it('runGit: one `git config` for repeated calls (git writing in .git included); a filter driver added to the config is read again and does not run', async function () {
    // Let the fresh repository's files age past the clock-tick rule.
    fs.writeFileSync(path.join(repo, 'f.txt'), 'x\n');
    fs.writeFileSync(path.join(repo, '.gitattributes'), '* filter=evil\n');
    await new Promise((r) => setTimeout(r, 1300));
    const before = gitConfigReads();
    assert.equal((await runGit(repo, ['status', '--porcelain'])).code, 0);
    // Git writing its index (the .git folder's times change) is no config change.
    assert.equal((await runGit(repo, ['add', '.gitattributes'])).code, 0);
    assert.equal((await runGit(repo, ['rev-parse', '--git-dir'])).code, 0);
    assert.equal(gitConfigReads() - before, 1, 'the later calls reuse the first read');
    const marker = path.join(tmp, 'ran');
    plainGit(repo, ['config', 'filter.evil.clean', `touch ${marker}; cat`]);
    const r = await runGit(repo, ['hash-object', 'f.txt']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(gitConfigReads() - before, 2, 'the changed config was read again');
    assert.equal(fs.existsSync(marker), false, 'the repository\'s filter ran: a stale config was used');
    // Control: plain git runs it.
    plainGit(repo, ['hash-object', 'f.txt']);
    assert.equal(fs.existsSync(marker), true);
  });
});
