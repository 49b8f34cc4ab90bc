// Flat config: type-aware rules everywhere, plus determinism guards for workflow code.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Each folder's layer and the folders it may import from. A folder never imports from one above it: that keeps
// the workflow bundle free of I/O, activities free of orchestration, and the bridge free of the command line.
const FOLDERS = [
  'domain',
  'contracts',
  'infra',
  'kafka',
  'simulator',
  'ledger',
  'activities',
  'batch',
  'stream',
  'replay',
  'workflows',
  'bridge',
  'ops',
  'report',
  'cli',
  'migrations',
  'worker',
  'client',
];
const MAY_IMPORT = {
  domain: [],
  contracts: ['domain'],
  infra: ['domain', 'contracts'],
  kafka: ['domain', 'contracts', 'infra'],
  simulator: ['domain', 'contracts', 'infra', 'kafka'],
  ledger: ['domain', 'contracts', 'infra'],
  activities: ['domain', 'contracts', 'infra', 'kafka', 'ledger', 'batch', 'stream', 'replay'],
  batch: ['domain', 'contracts', 'infra', 'kafka', 'ledger', 'activities'],
  stream: ['domain', 'contracts', 'infra', 'kafka', 'ledger', 'activities'],
  replay: ['domain', 'contracts', 'infra', 'kafka', 'ledger', 'activities', 'stream', 'batch'],
  ops: ['domain', 'contracts', 'infra'],
  report: ['domain', 'contracts', 'infra'],
  bridge: ['domain', 'contracts', 'infra', 'kafka', 'ops'],
  migrations: ['domain'],
};
const upTo = (folders) => `^(\\.\\./)+(${folders.join('|')})(/|$)`;

function layerRules() {
  return Object.entries(MAY_IMPORT).map(([folder, allowed]) => ({
    files: [`${folder}/**/*.ts`],
    ignores: ['**/workflow*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: upTo(FOLDERS.filter((f) => f !== folder && !allowed.includes(f))),
              message: `${folder}/ may import only from ${allowed.join(', ') || 'itself'} (eslint.config.mjs: MAY_IMPORT).`,
            },
            {
              regex: '^\\.{1,2}/(.*/)?(workflow[^/]*|workflows)(/.*)?$',
              message: 'Only workflow code imports workflow modules; share shapes through contracts/.',
            },
          ],
        },
      ],
    },
  }));
}

// Workflow code is replayed: no Node builtins, no I/O modules, no wall clock or randomness of its own. It takes
// values from contracts/, domain/ and other workflow modules, and only types from activities.
function workflowSandbox() {
  const io = {
    group: ['node:*', 'fs', 'path', 'crypto', 'os', 'child_process', 'net', 'http', 'https'],
    message: 'Workflows must stay deterministic: do I/O in activities.',
  };
  const activityModules = (extra) => ({
    regex: extra,
    message: 'Workflows must stay deterministic: use proxyActivities with import type.',
    allowTypeImports: true,
  });
  const libraries = activityModules('^(pg|knex|kafkajs|@aws-sdk/.*)$');
  const belowWorkflows = activityModules(
    upTo(
      FOLDERS.filter((f) => !['domain', 'contracts', 'workflows', 'batch', 'stream', 'replay'].includes(f)),
    ),
  );
  const pipelineActivities = activityModules('^(\\.\\./)+(batch|stream|replay)/(?!workflow)');
  return [
    {
      files: ['workflows/**/*.ts'],
      rules: {
        'no-restricted-imports': 'off',
        '@typescript-eslint/no-restricted-imports': [
          'error',
          { patterns: [io, libraries, belowWorkflows, pipelineActivities] },
        ],
      },
    },
    {
      files: ['**/workflow*.ts'],
      ignores: ['workflows/**', 'node_modules/**'],
      rules: {
        'no-restricted-imports': 'off',
        '@typescript-eslint/no-restricted-imports': [
          'error',
          {
            patterns: [
              io,
              libraries,
              belowWorkflows,
              pipelineActivities,
              activityModules('^\\./(?!workflow)'),
            ],
          },
        ],
      },
    },
  ];
}

export default tseslint.config(
  { ignores: ['node_modules/**', '.stack/**', 'dist/**', 'bench/results/**', 'eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
    },
  },
  ...layerRules(),
  ...workflowSandbox(),
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-expressions': 'off',
    },
  },
);
