// Flat config: type-aware rules everywhere, plus determinism guards for workflow code.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layers, lowest first: each folder (or top-level file) may import only from those before it, never from
// one after it. That keeps the workflow bundle free of I/O, the pipelines free of the composition roots
// (activities/ and workflows/ assemble them for worker.ts), and the bridge free of the pipelines and the CLI.
export const FOLDERS = [
  'domain',
  'migrations',
  'contracts',
  'infra',
  'ops',
  'report',
  'kafka',
  'bridge',
  'simulator',
  'ledger',
  'catalogue',
  'batch',
  'stream',
  'replay',
  'activities',
  'workflows',
  'worker',
  'cli',
  'client',
];
const MAY_IMPORT = Object.fromEntries(FOLDERS.map((folder, i) => [folder, FOLDERS.slice(0, i)]));
const upTo = (folders) => `^(\\.\\./)+(${folders.join('|')})(/|$)`;
const WORKFLOW_FILES = ['**/workflow*.ts', 'workflows/**/*.ts'];

// Workflow files obey the layer rule too. Below workflows/, only workflow code imports workflow modules (the
// sandbox below limits it further); above it, worker.ts, the CLI and client.ts start workflows by their type.
function layerRules() {
  return FOLDERS.flatMap((folder) => {
    const forbidden = FOLDERS.filter((f) => f !== folder && !MAY_IMPORT[folder].includes(f));
    if (forbidden.length === 0) return [];
    const allowed = MAY_IMPORT[folder].join(', ') || 'itself';
    const layer = {
      regex: upTo(forbidden),
      message: `${folder}/ may import only from ${allowed} (eslint.config.mjs: FOLDERS, MAY_IMPORT).`,
    };
    // A top-level file (worker.ts, client.ts) imports folders with ./ rather than ../.
    const rootFile = {
      regex: `^\\./(${forbidden.join('|')})(/|$)`,
      message: `${folder}.ts may import only from ${allowed} (eslint.config.mjs: FOLDERS, MAY_IMPORT).`,
    };
    const onlyWorkflowCode = {
      regex: '^\\.{1,2}/(.*/)?(workflow[^/]*|workflows)(/.*)?$',
      message: 'Only workflow code imports workflow modules; share shapes through contracts/.',
    };
    const startsWorkflows = FOLDERS.indexOf(folder) > FOLDERS.indexOf('workflows');
    const restrict = (patterns) => ({
      'no-restricted-imports': [
        'error',
        { patterns: startsWorkflows ? patterns : [...patterns, onlyWorkflowCode] },
      ],
    });
    return [
      { files: [`${folder}/**/*.ts`], ignores: WORKFLOW_FILES, rules: restrict([layer]) },
      { files: [`${folder}.ts`], rules: restrict([rootFile]) },
      {
        files: [`${folder}/**/workflow*.ts`, ...(folder === 'workflows' ? ['workflows/**/*.ts'] : [])],
        rules: { 'no-restricted-imports': ['error', { patterns: [layer] }] },
      },
    ];
  });
}

// Workflow code is replayed: no Node builtins, no I/O modules, no wall clock or randomness of its own. Besides
// the layer rule, it takes values only from contracts/, domain/ and other workflow modules, and only types
// from activities.
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
