/**
 * The folder rules of docs/architecture.md are lint errors: `npm run lint` (ESLint with the
 * repository's eslint.config.js) fails on an import across a boundary — gateway ↮ central,
 * protocols/ importing anything of ours, the dashboards importing server code or more than types,
 * firmware-shims importing the gateway outside its bundle build script — whether by `import`,
 * `export … from` or a dynamic `import()`, at any depth of the folder. Each probe is a file that
 * does not exist, linted in place with lintText, so nothing is written into the tree.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { REPO_ROOT } from '../support/env.ts';

/** FOLDER_RULES_MAX_DEPTH in eslint.config.js: the rules are written per depth, down to this one. */
const MAX_DEPTH = 8;
const GUARDED = ['protocols', 'server-shared', 'gateway', 'central', 'dashboards', 'firmware-shims'];
const FOLDER_RULE_IDS = new Set(['@typescript-eslint/no-restricted-imports', 'no-restricted-syntax']);

let eslint: ESLint;
before(() => {
  // The same configuration `npm run lint` (`eslint .` in the repository root) loads.
  eslint = new ESLint({ cwd: REPO_ROOT });
});

/** A probe file `file` (relative to the repository) whose only statement imports `from`. */
async function lint(file: string, code: string) {
  const [result] = await eslint.lintText(code, { filePath: path.join(REPO_ROOT, file) });
  assert.ok(result, `a result for ${file}`);
  return result.messages;
}

const importOf = (from: string) => `import { value } from '${from}';\nexport const probe = value;\n`;

async function assertRefused(file: string, code: string, reason: RegExp) {
  const messages = await lint(file, code);
  assert.equal(messages.length, 1, `${file}: one error for\n${code}\n${JSON.stringify(messages, null, 2)}`);
  const [message] = messages;
  assert.ok(FOLDER_RULE_IDS.has(message!.ruleId ?? ''), `${file}: a folder rule, not ${message!.ruleId}`);
  assert.equal(message!.severity, 2, `${file}: an error, not a warning`);
  assert.match(message!.message, reason, file);
}

async function assertAllowed(file: string, code: string) {
  const messages = await lint(file, code);
  assert.deepEqual(messages, [], `${file}: no error for\n${code}`);
}

describe('folder rules (eslint.config.js)', () => {
  it('keeps gateway/ and central/ apart, at every depth', async () => {
    await assertRefused(
      'gateway/__lint_probe.ts',
      importOf('../central/index.ts'),
      /gateway\/.*never central/,
    );
    await assertRefused(
      'gateway/forwarder/__lint_probe.ts',
      importOf('../../central/alerts/types.ts'),
      /never central/,
    );
    await assertRefused(
      'gateway/sources/capture/deeper/__lint_probe.ts',
      importOf('../../../../central/link/server.ts'),
      /never central/,
    );
    await assertRefused(
      'central/__lint_probe.ts',
      importOf('../gateway/index.ts'),
      /central\/.*never gateway/,
    );
    await assertRefused(
      'central/store/__lint_probe.ts',
      importOf('../../gateway/queue/types.ts'),
      /never gateway/,
    );
    await assertRefused(
      'central/store/__lint_probe.ts',
      `export { value } from '../../gateway/queue/types.ts';\n`,
      /never gateway/,
    );
    await assertRefused(
      'gateway/forwarder/__lint_probe.ts',
      `export const probe = await import('../../central/index.ts');\n`,
      /never central/,
    );
    // A type is still an import of the other server: what both need is a format, in protocols/.
    await assertRefused(
      'central/store/__lint_probe.ts',
      `import type { value } from '../../gateway/queue/types.ts';\nexport type Probe = value;\n`,
      /never gateway/,
    );
  });

  it('lets gateway/ and central/ import protocols/, server-shared/, their own files and npm', async () => {
    for (const folder of ['gateway', 'central']) {
      await assertAllowed(`${folder}/link/__lint_probe.ts`, importOf('../../protocols/link/codec.ts'));
      await assertAllowed(
        `${folder}/link/__lint_probe.ts`,
        importOf('../../server-shared/web-auth/index.ts'),
      );
      await assertAllowed(`${folder}/link/__lint_probe.ts`, importOf('../config/schema.ts'));
      await assertAllowed(`${folder}/link/__lint_probe.ts`, importOf(`../../${folder}/config/schema.ts`));
      await assertAllowed(`${folder}/link/__lint_probe.ts`, importOf('zod'));
      await assertAllowed(`${folder}/__lint_probe.ts`, importOf('node:fs'));
    }
  });

  it('keeps protocols/ to formats: npm packages and its own files only', async () => {
    await assertRefused(
      'protocols/link/__lint_probe.ts',
      importOf('../../gateway/queue/types.ts'),
      /protocols\//,
    );
    await assertRefused(
      'protocols/link/__lint_probe.ts',
      importOf('../../central/link/server.ts'),
      /protocols\//,
    );
    await assertRefused(
      'protocols/__lint_probe.ts',
      importOf('../server-shared/config/load.ts'),
      /protocols\//,
    );
    await assertRefused(
      'protocols/sigma/__lint_probe.ts',
      importOf('../../dashboards/shared/api.ts'),
      /protocols\//,
    );
    await assertAllowed('protocols/sigma/__lint_probe.ts', importOf('../event/schema.ts'));
    await assertAllowed('protocols/sigma/__lint_probe.ts', importOf('./matcher.ts'));
    await assertAllowed('protocols/mqtt/__lint_probe.ts', importOf('hono'));
  });

  it('keeps server-shared/ to protocols/ and npm', async () => {
    await assertRefused(
      'server-shared/web-auth/__lint_probe.ts',
      importOf('../../gateway/index.ts'),
      /server-shared/,
    );
    await assertRefused('server-shared/__lint_probe.ts', importOf('../central/index.ts'), /server-shared/);
    await assertAllowed(
      'server-shared/web-auth/__lint_probe.ts',
      importOf('../../protocols/event/schema.ts'),
    );
    await assertAllowed('server-shared/web-auth/__lint_probe.ts', importOf('hono'));
  });

  it('lets the dashboards import only types from protocols/, nothing from the servers', async () => {
    const file = 'dashboards/central/src/__lint_probe.tsx';
    await assertRefused(file, importOf('../../../protocols/event/schema.ts'), /dashboards\//);
    await assertRefused(file, importOf('../../../central/api/alerts.ts'), /dashboards\//);
    await assertRefused(file, importOf('../../../server-shared/web-auth/index.ts'), /dashboards\//);
    await assertRefused(
      file,
      `import type { value } from '../../../gateway/http/index.ts';\nexport type Probe = value;\n`,
      /dashboards\//,
    );
    await assertRefused(
      file,
      `export const probe = import('../../../protocols/event/schema.ts');\n`,
      /dashboards\//,
    );
    await assertAllowed(
      file,
      `import type { Event } from '../../../protocols/event/schema.ts';\nexport type Probe = Event;\n`,
    );
    await assertAllowed(file, importOf('../../shared/api.ts'));
    await assertAllowed(file, importOf('preact'));
  });

  it('refuses inline type imports in the dashboards: they keep a side-effect import at run time', async () => {
    const file = 'dashboards/shared/__lint_probe.ts';
    const inline = `import { type Event } from '../../protocols/event/schema.ts';\nexport type Probe = Event;\n`;
    // The folder rule's allowTypeImports lets this through; verbatimModuleSyntax keeps
    // `import '../../protocols/event/schema.ts'` in the bundle.
    assert.deepEqual(
      (await lint(file, inline)).map((m) => [m.ruleId, m.severity]),
      [['@typescript-eslint/no-import-type-side-effects', 2]],
    );
    const [fixed] = await new ESLint({ cwd: REPO_ROOT, fix: true }).lintText(inline, {
      filePath: path.join(REPO_ROOT, file),
    });
    assert.match(
      fixed?.output ?? '',
      /^import type \{ Event \} from '\.\.\/\.\.\/protocols\/event\/schema\.ts';/,
    );
    // A value import used only as a type: the folder rule refuses it, and the fix is `import type`.
    const valueAsType = await lint(
      file,
      `import { Event } from '../../protocols/event/schema.ts';\nexport type Probe = Event;\n`,
    );
    assert.ok(
      valueAsType.some((m) => m.ruleId === '@typescript-eslint/consistent-type-imports' && m.severity === 2),
      JSON.stringify(valueAsType),
    );
    await assertAllowed(
      file,
      `import type { Event } from '../../protocols/event/schema.ts';\nexport type Probe = Event;\n`,
    );
  });

  it('keeps firmware-shims/ to protocols/, the gateway only for its bundle build script', async () => {
    await assertRefused(
      'firmware-shims/simulators/__lint_probe.ts',
      importOf('../../gateway/index.ts'),
      /firmware-shims\//,
    );
    await assertRefused(
      'firmware-shims/build/__lint_probe.ts',
      importOf('../../gateway/index.ts'),
      /firmware-shims/,
    );
    await assertRefused(
      'firmware-shims/build/bundle-gateway.ts',
      importOf('../../central/index.ts'),
      /bundle build script/,
    );
    // The grant is dashboards/build.ts, not the dashboards.
    await assertRefused(
      'firmware-shims/build/bundle-gateway.ts',
      importOf('../../dashboards/shared/api.ts'),
      /bundle build script/,
    );
    await assertAllowed('firmware-shims/build/bundle-gateway.ts', importOf('../../gateway/index.ts'));
    await assertAllowed('firmware-shims/build/bundle-gateway.ts', importOf('../../dashboards/build.ts'));
    await assertAllowed(
      'firmware-shims/simulators/__lint_probe.ts',
      importOf('../../protocols/modbus/codec.ts'),
    );
  });

  it('refuses a way around: climbing out of the repository, absolute paths', async () => {
    await assertRefused(
      'gateway/__lint_probe.ts',
      importOf('../../elsewhere/central/index.ts'),
      /never central/,
    );
    await assertRefused('gateway/__lint_probe.ts', importOf('/work/main/central/index.ts'), /never central/);
    await assertRefused(
      'protocols/link/__lint_probe.ts',
      importOf('./../../gateway/index.ts'),
      /protocols\//,
    );
  });

  it('reaches every source file of the guarded folders', async () => {
    const deep = `gateway/${'d/'.repeat(MAX_DEPTH - 1)}__lint_probe.ts`;
    await assertRefused(deep, importOf(`${'../'.repeat(MAX_DEPTH)}central/index.ts`), /never central/);
    const tooDeep: string[] = [];
    const walk = (dir: string, depth: number) => {
      for (const entry of readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true })) {
        const file = `${dir}/${entry.name}`;
        if (entry.isDirectory() && entry.name !== 'node_modules') walk(file, depth + 1);
        else if (/\.[cm]?[jt]sx?$/.test(entry.name) && depth > MAX_DEPTH) tooDeep.push(file);
      }
    };
    for (const folder of GUARDED) {
      if (readdirSync(REPO_ROOT).includes(folder)) walk(folder, 1);
    }
    assert.deepEqual(tooDeep, [], 'files deeper than the folder rules reach (raise FOLDER_RULES_MAX_DEPTH)');
  });

  it('lets demo/, tests/ and bin/ import anything', async () => {
    await assertAllowed('demo/__lint_probe.ts', importOf('../central/index.ts'));
    await assertAllowed('demo/__lint_probe.ts', importOf('../gateway/index.ts'));
    await assertAllowed('tests/house/__lint_probe.ts', importOf('../../central/index.ts'));
    await assertAllowed('bin/__lint_probe.ts', importOf('../gateway/cli.ts'));
  });
});
