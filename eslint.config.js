// Lint configuration: ESLint's and typescript-eslint's recommended rules for the whole tree.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
);
