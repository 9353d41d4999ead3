/**
 * The benchmarks run the bundle with firmware-shims/build/runtime.ts's flags; the installed
 * wrapper must run it with the same ones, or what is measured is not what ships.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { GATEWAY_ENV, GATEWAY_HEAP_MB, GATEWAY_SEMI_SPACE_MB } from '../../firmware-shims/build/runtime.ts';
import { REPO_ROOT } from '../support/env.ts';

test('the installed wrapper runs the gateway with the flags the benchmarks measure', () => {
  const wrapper = readFileSync(path.join(REPO_ROOT, 'firmware-shims', 'install', 'siem-gateway'), 'utf8');
  const exec = wrapper.split('\n').find((line) => line.startsWith('exec node '));
  assert.ok(exec, 'the wrapper execs node');
  assert.match(exec, new RegExp(`--max-old-space-size="\\$\\{SIEM_GATEWAY_HEAP_MB:-${GATEWAY_HEAP_MB}\\}"`));
  assert.match(
    exec,
    new RegExp(`--max-semi-space-size="\\$\\{SIEM_GATEWAY_SEMI_SPACE_MB:-${GATEWAY_SEMI_SPACE_MB}\\}"`),
  );
  assert.match(
    wrapper,
    new RegExp(`MALLOC_ARENA_MAX="\\$\\{MALLOC_ARENA_MAX:-${GATEWAY_ENV.MALLOC_ARENA_MAX}\\}"`),
  );
});
