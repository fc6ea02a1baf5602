// ESLint flat config: typescript-eslint recommended rules, plus the layer rule of DESIGN.md:
// pure cores (libs/raft, libs/gossip, libs/crdt, libs/decision, libs/replica) never touch I/O, timers or the clock.
// The rules that need resolved import paths (no app imports another app, no lib cycle) are checked
// on the import graph by test/static/import-graph.spec.ts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const pureCoreFiles = [
  'libs/raft/src/**/*.ts',
  'libs/gossip/src/**/*.ts',
  'libs/crdt/src/**/*.ts',
  'libs/decision/src/**/*.ts',
  // The replica driver reaches disk, network and time only through its ports.
  'libs/replica/src/**/*.ts',
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'libs/client/dist/**',
      'node_modules/**',
      '.infra/**',
      '.data/**',
      'coverage/**',
      'bench/results/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The dashboard's script runs in the browser.
    files: ['apps/*/src/**/assets/**/*.js'],
    languageOptions: { globals: globals.browser },
  },
  {
    // Libraries never reach into apps (no-lib-to-app).
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/apps/**', 'apps/*'], message: 'Libraries must not import from apps.' },
          ],
        },
      ],
    },
  },
  {
    files: pureCoreFiles,
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'net',
                'node:net',
                'dgram',
                'node:dgram',
                'fs',
                'node:fs',
                'fs/*',
                'node:fs/*',
                'timers',
                'node:timers',
                'timers/*',
                'node:timers/*',
                'child_process',
                'node:child_process',
                'http',
                'node:http',
              ],
              message: 'Pure cores do no I/O (DESIGN.md §1).',
            },
            { group: ['@nestjs/*'], message: 'Pure cores have no Nest import (DESIGN.md §1).' },
            { group: ['**/apps/**', 'apps/*'], message: 'Libraries must not import from apps.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Time enters pure cores as tick().' },
        { name: 'setInterval', message: 'Time enters pure cores as tick().' },
        { name: 'setImmediate', message: 'Time enters pure cores as tick().' },
        { name: 'process', message: 'Pure cores read no environment.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Pure cores take time from tick().' },
        {
          object: 'Math',
          property: 'random',
          message: 'Pure cores take randomness from an injected seeded source.',
        },
        { object: 'performance', property: 'now', message: 'Pure cores take time from tick().' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date']",
          message: 'Pure cores take time from tick().',
        },
      ],
    },
  },
);
