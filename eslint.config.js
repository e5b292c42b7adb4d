// Lint: typescript-eslint's type-checked strict rules, TSDoc comment syntax, and the layer order
// of src/ (scripts/layers.json, also checked by scripts/check-layers.mjs). Formatting is
// prettier's job (npm run format:check), so no stylistic rules here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import tsdoc from 'eslint-plugin-tsdoc';
import boundaries from 'eslint-plugin-boundaries';
import { readFileSync } from 'node:fs';

/**
 * The layer order of src/ as boundaries policies, from the same data scripts/check-layers.mjs
 * reads: a folder may import its own and lower tiers (cycles within a tier are the script's
 * job), `onlyFrom` folders only from the folders named, `mayImport` folders only what is named
 * (type imports aside), and the `pending` edges until they are gone.
 */
const layers = JSON.parse(readFileSync(new URL('./scripts/layers.json', import.meta.url), 'utf8'));
const folders = layers.tiers.flat();
// errors is one file, src/errors.ts, importable from every layer: it stays unclassified (an
// element is a folder) and imports nothing of ours.
const elements = folders.filter((type) => type !== 'errors').map((type) => ({ type, pattern: `src/${type}` }));
const pendingTo = (from) => layers.pending.filter((e) => e.startsWith(`${from} -> `)).map((e) => e.split(' -> ')[1]);
const policies = layers.tiers.flatMap((tier, i) =>
  tier.map((from) => {
    const own = layers.mayImport[from] ?? [...tier, ...layers.tiers.slice(i + 1).flat()];
    const allowed = [
      ...new Set([
        ...[from, ...own].filter((to) => to === from || !(to in layers.onlyFrom) || layers.onlyFrom[to].includes(from)),
        ...pendingTo(from),
      ]),
    ];
    return { from: { element: { type: from } }, allow: { to: { element: { types: { anyOf: allowed } } } } };
  }),
);
const typeImports = layers.typeImportsAllowed.map((from) => ({
  from: { element: { type: from } },
  allow: { dependency: { kind: 'type' }, to: { element: { types: { anyOf: folders } } } },
}));

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'test/helpers/fixture-root/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { tsdoc },
    rules: {
      'tsdoc/syntax': 'error',
      // Numbers and booleans read fine in messages; objects and unknowns still may not be.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `() => void f()` and `(x) => set.add(x)` callbacks are idiomatic.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // With noUncheckedIndexedAccess every indexed read is `T | undefined`; `!` marks the reads a
      // bound or a regex group proves present (about 100 today). To be narrowed one by one.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'boundaries/elements': elements,
      'boundaries/include': ['src/**/*.ts'],
      'import/resolver': { typescript: { project: './tsconfig.json' } },
    },
    rules: {
      'boundaries/dependencies': ['error', { default: 'disallow', policies: [...policies, ...typeImports] }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // node:test's describe/test return promises the runner awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'test', 'it', 'suite'] },
          ],
        },
      ],
      // A test states what it expects to exist; a wrong `!` fails the test, which is the point.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      parserOptions: { projectService: false },
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly' },
    },
  },
);
