// Lint: the few rules that matter (promises, unused code, `any` outside tests), with type information.
// Formatting belongs to prettier (.prettierrc.json), not to these rules.
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const CODE = ['src/**/*.ts', 'cim/**/*.ts', 'openadr/**/*.ts', 'identity/**/*.ts', 'console/**/*.ts', 'console/**/*.tsx'];
const TOOLS = ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'bin/**/*.mjs'];

export default defineConfig(
  { ignores: ['node_modules/', '.wrangler/', '.fmar-data/', 'coverage/', 'dist/', 'console/dist/', 'docs/', 'scratch/', 'test/fixtures/'] },
  {
    files: [...CODE, ...TOOLS],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: {
        projectService: { allowDefaultProject: ['bin/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Tests and benches: `any` where a row or body is checked by the assertion that follows; their
    // throwaway HTTP servers hand promise-returning listeners to node:http (a rejection fails the run).
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-misused-promises': 'off' },
  },
);
