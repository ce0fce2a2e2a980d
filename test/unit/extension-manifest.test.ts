import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * package.json's `contributes` against what src/extension really registers (read from the sources;
 * no `vscode` import here). A command in the manifest that nothing registers shows a palette entry
 * that fails; a registered command or view missing from the manifest never appears.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  main: string;
  activationEvents: string[];
  contributes: {
    viewsContainers: { activitybar: { id: string; title: string; icon: string }[] };
    views: Record<string, { id: string; name: string; icon?: string }[]>;
    viewsWelcome: { view: string; contents: string; when?: string }[];
    commands: { command: string; title: string; category?: string; icon?: string }[];
    menus: Record<string, { command: string; when?: string }[]>;
    jsonValidation: { fileMatch: string; url: string }[];
    walkthroughs: {
      id: string;
      title: string;
      steps: { id: string; title: string; description: string; media: { markdown?: string; image?: string }; completionEvents?: string[] }[];
    }[];
  };
};
const c = pkg.contributes;

function sources(dir: string): { file: string; text: string }[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => ({ file: path.join(dir, f), text: fs.readFileSync(path.join(dir, f), 'utf8') }));
}
const extSources = sources(path.join(ROOT, 'src', 'extension'));
const allText = extSources.map((s) => s.text).join('\n');

/** String constants (`const NAME = 'value'`) declared in the extension's sources. */
const constants = new Map<string, string>();
for (const m of allText.matchAll(/const (\w+) = '([^']+)'/g)) constants.set(m[1] ?? '', m[2] ?? '');
function resolve(token: string): string {
  const literal = /^'([^']+)'$/.exec(token);
  if (literal) return literal[1] ?? '';
  const value = constants.get(token);
  assert.ok(value !== undefined, `${token} is a string constant in src/extension`);
  return value;
}

const registeredCommands = [...allText.matchAll(/registerCommand\(\s*('[^']+'|\w+)/g)].map((m) => resolve(m[1] ?? ''));
const createdViews = [...allText.matchAll(/createTreeView\(\s*('[^']+'|\w+)/g)].map((m) => resolve(m[1] ?? ''));
const contributedCommands = c.commands.map((x) => x.command);
const contributedViews = Object.values(c.views).flat().map((v) => v.id);

describe('extension manifest (package.json) vs the code', () => {
  it('every contributed command is registered in src/extension, and every registered one is contributed', () => {
    assert.deepEqual([...registeredCommands].sort(), [...contributedCommands].sort());
    assert.equal(new Set(registeredCommands).size, registeredCommands.length, 'no command is registered twice');
  });

  it('command ids are factory.<area>.<verb> with category "Factory" and a title', () => {
    for (const cmd of c.commands) {
      assert.match(cmd.command, /^factory\.[a-z][A-Za-z]*\.[a-z][A-Za-z]*$/, cmd.command);
      assert.equal(cmd.category, 'Factory', cmd.command);
      assert.ok(cmd.title.length > 0 && !cmd.title.startsWith('Factory'), `${cmd.command}: the category supplies the "Factory:" prefix`);
    }
  });

  it('the Factory container holds the Roadmap, AC Queue and Runs views, and the code creates exactly those tree views', () => {
    const container = c.viewsContainers.activitybar.find((x) => x.id === 'factory');
    assert.ok(container);
    assert.equal(container.title, 'Factory');
    assert.ok(fs.existsSync(path.join(ROOT, container.icon)), `${container.icon} exists`);
    assert.deepEqual(
      c.views.factory?.map((v) => v.name),
      ['Roadmap', 'AC Queue', 'Runs'],
    );
    assert.deepEqual([...createdViews].sort(), [...contributedViews].sort());
  });

  it('menus and welcome links only name contributed commands (or built-in workbench ones) and existing views', () => {
    for (const [menu, entries] of Object.entries(c.menus)) {
      for (const entry of entries) {
        assert.ok(contributedCommands.includes(entry.command), `${menu}: ${entry.command} is contributed`);
        for (const m of (entry.when ?? '').matchAll(/view == ([\w.]+)/g)) assert.ok(contributedViews.includes(m[1] ?? ''), `${menu}: view ${m[1]} exists`);
      }
    }
    for (const w of c.viewsWelcome) {
      assert.ok(contributedViews.includes(w.view), `welcome for ${w.view}`);
      for (const m of w.contents.matchAll(/\(command:([\w.]+)\)/g)) {
        const id = m[1] ?? '';
        assert.ok(contributedCommands.includes(id) || id.startsWith('workbench.'), `welcome link ${id}`);
      }
    }
  });

  it('the getting-started walkthrough: its steps, in order, with packaged Markdown media and buttons that name real commands', () => {
    const w = c.walkthroughs.find((x) => x.id === 'factory.gettingStarted');
    assert.ok(w, 'walkthrough factory.gettingStarted');
    assert.deepEqual(
      w.steps.map((s) => s.id),
      ['workspace', 'trust', 'apiKey', 'workerImage', 'run', 'runPanel'],
    );
    const buttons = w.steps.flatMap((s) => [...s.description.matchAll(/\(command:([\w.]+)\)/g)].map((m) => m[1] ?? ''));
    for (const need of ['factory.workspace.init', 'workbench.trust.manage', 'factory.apiKey.set', 'factory.image.build', 'factory.cycle.run', 'factory.runPanel.open']) {
      assert.ok(buttons.includes(need), `a step has a button for ${need}`);
    }
    const events = w.steps.flatMap((s) => s.completionEvents ?? []);
    for (const id of [...buttons, ...events.filter((e) => e.startsWith('onCommand:')).map((e) => e.slice('onCommand:'.length))]) {
      const viewFocus = /^(.+)\.focus$/.exec(id)?.[1];
      assert.ok(
        contributedCommands.includes(id) || id.startsWith('workbench.') || (viewFocus !== undefined && contributedViews.includes(viewFocus)),
        `walkthrough command ${id} exists`,
      );
    }
    for (const e of events.filter((x) => x.startsWith('onView:'))) assert.ok(contributedViews.includes(e.slice('onView:'.length)), e);
    for (const step of w.steps) {
      const md = step.media.markdown ?? '';
      assert.ok(md.startsWith('media/walkthrough/'), `${step.id}: Markdown media under media/walkthrough/ (packaged with media/**)`);
      const text = fs.readFileSync(path.join(ROOT, md), 'utf8');
      assert.match(text, /^# \S/, `${md} starts with a heading`);
      assert.ok(text.length < 3000, `${md} stays short`);
      assert.ok(step.completionEvents?.length, `${step.id} can be completed`);
    }
  });

  it('the welcome states are states the SSOT store really sets as factory.ssotState', () => {
    const store = extSources.find((s) => s.file.endsWith(path.join('ssot', 'ssot-store.ts')));
    assert.ok(store);
    assert.match(store.text, /SSOT_STATE_CONTEXT_KEY = 'factory\.ssotState'/);
    const kinds = new Set([...store.text.matchAll(/kind: '(\w+)'/g)].map((m) => m[1]));
    const used = c.viewsWelcome.flatMap((w) => [...(w.when ?? '').matchAll(/factory\.ssotState == (\w+)/g)].map((m) => m[1]));
    assert.ok(used.length >= 2);
    for (const k of used) assert.ok(kinds.has(k), `factory.ssotState == ${k} is a state of SsotStore`);
  });

  it('jsonValidation points at the generated config schema, which ships in the package', () => {
    const v = c.jsonValidation.find((x) => x.fileMatch.includes('.factory/config.json'));
    assert.ok(v);
    assert.ok(fs.existsSync(path.join(ROOT, v.url)), `${v.url} exists`);
  });

  it('the .vsix would contain the bundles, schemas, media, README and LICENSE, and no sources, tests, maps or dependencies (vsce ls)', function () {
    this.timeout(60_000);
    const listed = execFileSync(process.execPath, [path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'ls', '--no-dependencies'], {
      cwd: ROOT,
      encoding: 'utf8',
    })
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    for (const must of [pkg.main.replace(/^\.\//, ''), 'package.json', 'README.md', 'LICENSE', 'media/factory.svg', 'schemas/config.schema.json']) {
      assert.ok(listed.includes(must), `${must} is packaged (listed: ${listed.join(', ')})`);
    }
    // Nothing a user does not need: no sources, tests, dependencies, source maps or scripts.
    assert.deepEqual(
      listed.filter((f) => /^(src|test|scripts|bench|node_modules|examples|docs|\.ci)\/|\.(ts|map)$/.test(f)),
      [],
    );
    assert.ok(!listed.includes('dist/exthost-tests.js'), 'the extension-host test bundle is not shipped');
    // The extension calls the core itself; the CLI's bundles (and the stale chunks dist/ keeps) stay out.
    assert.deepEqual(
      listed.filter((f) => f.startsWith('dist/cli')),
      [],
    );
  });
});
