// Lint configuration: ESLint's and typescript-eslint's recommended rules for the whole tree, and
// the folder rules of docs/architecture.md ("Folders"): which top-level folder may import which.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The folder rules. A guarded folder may import, besides npm packages and node: built-ins, its own
 * files and the top-level folders listed here; demo/, tests/, bin/ and the root files may import
 * anything. `typesFrom` may be imported with `import type` only (the dashboards share the API's
 * types, never server code). `files` narrows a grant to some files of the folder.
 */
const FOLDER_RULES = [
  { folder: 'protocols', why: 'protocols/ holds formats only: it imports npm packages, nothing of ours' },
  {
    folder: 'server-shared',
    may: ['protocols'],
    why: 'server-shared/ (what both servers share) imports protocols/ and npm packages only',
  },
  {
    folder: 'gateway',
    may: ['protocols', 'server-shared'],
    why: 'gateway/ imports protocols/ and server-shared/, never central/',
  },
  {
    folder: 'central',
    may: ['protocols', 'server-shared'],
    why: 'central/ imports protocols/ and server-shared/, never gateway/',
  },
  {
    folder: 'dashboards',
    typesFrom: ['protocols'],
    why: 'dashboards/ import nothing from the servers (they talk HTTP) and only types from protocols/',
  },
  { folder: 'firmware-shims', may: ['protocols'], why: 'firmware-shims/ imports protocols/ only' },
  {
    folder: 'firmware-shims',
    files: ['build/bundle-gateway.ts'],
    // The bundle build script bundles the gateway, and builds the device dashboard it ships with.
    may: ['protocols', 'gateway', 'dashboards/build.ts'],
    why: 'the gateway bundle build script imports protocols/, gateway/ and dashboards/build.ts only',
  },
];
const SOURCE_EXTENSIONS = '{ts,tsx,js,mjs,cjs}';
/**
 * Deeper than any source file in the guarded folders (dashboards/central/src/pages/*.tsx is at
 * depth 4); tests/house/folder-rules.test.ts fails when a file lies deeper, out of the rules' reach.
 */
const FOLDER_RULES_MAX_DEPTH = 8;
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * no-restricted-imports matches the import string, not the resolved file, so each rule is written
 * per depth: from `gateway/a/b.ts` (depth 2) `../../` reaches the repository root, and the segment
 * after it must be a folder the rule allows. Climbing further, absolute paths and file: URLs are
 * refused outright. Dynamic import() is held to the same rule through no-restricted-syntax.
 */
function folderRuleConfigs(rule) {
  const configs = [];
  for (let depth = 1; depth <= FOLDER_RULES_MAX_DEPTH; depth += 1) {
    const dirs = '*/'.repeat(depth - 1);
    const files = rule.files
      ? rule.files.filter((f) => f.split('/').length === depth).map((f) => `${rule.folder}/${f}`)
      : [`${rule.folder}/${dirs}*.${SOURCE_EXTENSIONS}`];
    if (files.length === 0) continue;
    const up = `^(?:\\./)?(?:\\.\\./){${depth}}`;
    const allowed = [rule.folder, ...(rule.may ?? [])].map(escape).join('|');
    const typesOnly = (rule.typesFrom ?? []).map(escape).join('|');
    // (?:/|$) makes a grant exact: `protocols` lets no `protocols-old/` through, and
    // `dashboards/build.ts` grants that one file, not the folder.
    const notAllowed = `${up}(?!(?:${allowed}${typesOnly ? `|${typesOnly}` : ''})(?:/|$))`;
    const patterns = [
      { regex: notAllowed, message: rule.why },
      { regex: '^(?:/|file:)', message: `${rule.why}; import by relative path` },
    ];
    if (typesOnly) {
      patterns.push({ regex: `${up}(?:${typesOnly})(?:/|$)`, allowTypeImports: true, message: rule.why });
    }
    configs.push({
      files,
      rules: {
        '@typescript-eslint/no-restricted-imports': ['error', { patterns }],
        'no-restricted-syntax': [
          'error',
          ...patterns.map((p) => ({
            selector: `ImportExpression[source.value=/${p.regex.replaceAll('/', '\\x2F')}/]`,
            message: p.message,
          })),
        ],
      },
    });
  }
  return configs;
}

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', 'dist/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        TextDecoder: 'readonly',
        TextEncoder: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      'no-control-regex': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  // The dashboards run in the browser (dashboards/build.ts bundles them): DOM globals.
  {
    files: ['dashboards/shared/**/*.{ts,tsx}', 'dashboards/*/src/**/*.{ts,tsx}'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'location',
          'history',
          'navigator',
          'localStorage',
          'EventSource',
          'AbortController',
          'URLSearchParams',
          'FormData',
          'Blob',
          'File',
          'FileReader',
          'ResizeObserver',
          'HashChangeEvent',
          'MessageEvent',
          'Event',
          'HTMLElement',
          'HTMLDivElement',
          'HTMLInputElement',
          'requestAnimationFrame',
          'addEventListener',
          'removeEventListener',
          'dispatchEvent',
          'confirm',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  // The dashboards may import types only from protocols/ (the folder rules below). Under
  // verbatimModuleSyntax `import { type X } from '…'` keeps a side-effect import at run time, which
  // the folder rules' allowTypeImports lets through: only `import type { X }` is accepted here.
  {
    files: ['dashboards/**/*.{ts,tsx}'],
    rules: {
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'separate-type-imports' },
      ],
      '@typescript-eslint/no-import-type-side-effects': 'error',
    },
  },
  // The folder rules, last so that nothing above overrides them.
  ...FOLDER_RULES.flatMap(folderRuleConfigs),
);
