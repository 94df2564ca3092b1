// Lint rules that protect the Temporal workflow sandbox, plus type-aware checks for the whole project.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'lib/', '.tools/', '.stack/', 'coverage/', 'bin/', 'jest.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code is replayed: no I/O, no Node built-ins, no activity implementations, no SDK clients.
    files: ['src/workflows/**/*.ts', 'src/shared/**/*.ts', 'src/policy/**/*.ts', 'src/net/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          // Bare names as exact paths: as patterns they would also match our own src/net folder.
          paths: ['fs', 'path', 'os', 'crypto', 'net', 'http', 'https', 'child_process', 'buffer', 'dns', 'tls'].map(
            (name) => ({ name, message: 'No Node built-ins in workflow-bundled code.' }),
          ),
          patterns: [
            { group: ['node:*'], message: 'Workflow-bundled code must not use Node built-ins.' },
            {
              group: [
                'imapflow',
                'nodemailer',
                'mailparser',
                '@aws-sdk/*',
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
              ],
              message: 'I/O libraries belong in activities.',
            },
            {
              group: ['**/activities', '**/activities/*'],
              allowTypeImports: true,
              message: 'Import activity types only (import type).',
            },
            {
              group: ['**/config', '**/extraction/*'],
              message: 'Workflow-bundled code must not read config or parse mail.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/activities/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
);
