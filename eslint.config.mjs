// Type-aware lint. Architectural rules: only src/extension (and the extension-host tests) may import
// `vscode` (src/core is shared by the extension, the CLI and the Worker runtime); the layering, cycle
// and size rules live in eslint.architecture.mjs (the final rule set is stated there).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { architecture, ROOT } from './eslint.architecture.mjs';

const noVscode = {
  'no-restricted-imports': ['error', {
    paths: [{ name: 'vscode', message: 'Only src/extension may import vscode (see docs/architecture.md).' }],
  }],
};

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'examples/**', 'test-results/**', 'scratch/**', 'test/fixtures/lint/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/require-await': 'off',
      ...noVscode,
    },
  },
  {
    files: ['src/extension/**/*.ts', 'test/exthost/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  ...architecture(ROOT),
);
