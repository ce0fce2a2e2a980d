// The architecture rules of docs/architecture.md, enforced by `eslint .` (and so by `npm test`).
// Kept apart from eslint.config.mjs so test/unit/lint/layering.test.ts runs exactly these rules
// on its fixtures (a tree shaped like src/) without the type-aware rules, which need a tsconfig.
//
// Final rule set (all under src/; paths are folders, a module is one .ts file):
//   Layers, lowest first. A module may import its own layer or a lower one, never a higher one:
//     L0  src/core/contracts, src/core/util, src/core/paths, src/core/git
//     L1  src/core/ssot, src/core/config
//     L2  src/core/{plan,sandbox,docker,gateway,gate,guards,changeset,agents,evidence,history,lock,auditor,init}
//     L3  src/core/cycle
//     L4  src/cli, src/extension            (may also import src/shared; neither imports the other)
//   Side trees:
//     src/shared   imports only L0 (and packages such as zod)
//     src/webview  imports only src/shared and L0
//     src/worker   imports only L0, src/core/agents, src/core/config/prices.ts and src/core/gateway/usage.ts
//                  (the in-container runtime: the agent adapters, the price table they meter with, and the
//                  token meter the replay agent shares with the gateway)
//     core (L0-L3) never imports src/shared, src/webview, src/worker, src/cli or src/extension.
//   No import cycles anywhere, within a layer too (import-x/no-cycle; dynamic `import()` counts;
//     type-only imports are erased by the build and are exempt from the cycle check, not from the layers).
//   Size: a file in src at most 400 lines, a function at most 80 (nested functions count toward their
//     parent; blank lines and comments count too).
import path from 'node:path';
import tseslint from 'typescript-eslint';
import { importX, createNodeResolver } from 'eslint-plugin-import-x';

/** The layers of src/core and the shells, lowest first. */
export const LAYERS = [
  ['src/core/contracts', 'src/core/util', 'src/core/paths', 'src/core/git'],
  ['src/core/ssot', 'src/core/config'],
  ['src/core/plan', 'src/core/sandbox', 'src/core/docker', 'src/core/gateway', 'src/core/gate', 'src/core/guards',
    'src/core/changeset', 'src/core/agents', 'src/core/evidence', 'src/core/history', 'src/core/lock',
    'src/core/auditor', 'src/core/init', 'src/core/backend'],
  ['src/core/cycle'],
  ['src/cli', 'src/extension'],
];

const SHARED = 'src/shared';
const WEBVIEW = 'src/webview';
const WORKER = 'src/worker';
/** The swarm relay and the swarm task's boot script (dist/relay.js, dist/swarm-boot.js): node built-ins and L0 only. */
const RELAY = 'src/relay';
const above = (i) => LAYERS.slice(i + 1).flat();

/** no-restricted-paths zones: for each folder, the folders it must not import from. */
function zones() {
  const out = [];
  LAYERS.forEach((layer, i) => {
    const forbidden = i < LAYERS.length - 1 ? [...above(i), SHARED, WEBVIEW, WORKER, RELAY] : [WEBVIEW, WORKER, RELAY];
    for (const target of layer) {
      out.push({ target, from: forbidden, message: `Upward import: ${target} (L${i}) may import only its own layer or lower (docs/architecture.md).` });
    }
  });
  // The shells are independent of each other: the CLI must not pull in vscode, the extension not commander.
  out.push({ target: 'src/cli', from: 'src/extension', message: 'src/cli and src/extension are independent shells over src/core.' });
  out.push({ target: 'src/extension', from: 'src/cli', message: 'src/cli and src/extension are independent shells over src/core.' });
  out.push({ target: SHARED, from: [...above(0), WEBVIEW, WORKER], message: 'src/shared may import only L0 (contracts, util, paths).' });
  out.push({ target: WEBVIEW, from: [...above(0), WORKER], message: 'src/webview may import only src/shared and L0.' });
  const workerMessage = 'src/worker may import only L0, src/core/agents, src/core/config/prices.ts and src/core/gateway/usage.ts.';
  const workerPartly = { 'src/core/config': './prices.ts', 'src/core/gateway': './usage.ts' };
  out.push({ target: WORKER, from: [...above(0).filter((f) => f !== 'src/core/agents' && !(f in workerPartly)), SHARED, WEBVIEW], message: workerMessage });
  for (const [from, allowed] of Object.entries(workerPartly)) out.push({ target: WORKER, from, except: [allowed], message: workerMessage });
  out.push({ target: RELAY, from: [...above(0), SHARED, WEBVIEW, WORKER], message: 'src/relay may import only L0 (contracts, util, paths, git).' });
  return out;
}

/**
 * The layering, cycle and size rules for the tree rooted at `root` (the repository, or a fixture tree
 * shaped like it).
 * @param {string} root absolute folder the zone paths are relative to
 */
export function architecture(root) {
  const src = ['src/**/*.ts'];
  return [
    {
      files: src,
      languageOptions: { parser: tseslint.parser },
      plugins: { 'import-x': importX },
      settings: {
        // import-x only follows (and so only finds cycles through) files it may parse.
        'import-x/extensions': ['.ts', '.js', '.mjs'],
        'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
        'import-x/external-module-folders': ['node_modules', 'node_modules/@types'],
        'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs', '.json'] })],
      },
      rules: {
        'import-x/no-cycle': ['error', { ignoreExternal: true }],
        'import-x/no-restricted-paths': ['error', { basePath: root, zones: zones() }],
        'max-lines': ['error', { max: 400, skipBlankLines: false, skipComments: false }],
        'max-lines-per-function': ['error', { max: 80, skipBlankLines: false, skipComments: false, IIFEs: true }],
      },
    },
  ];
}

/** The repository root (this file's folder). */
export const ROOT = path.dirname(new URL(import.meta.url).pathname);
