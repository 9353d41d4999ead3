/**
 * The `pipeline:` config: absent, the OT-aware default; an unknown stage type, a stage in an
 * impossible order or a duplicate name is refused with a message that names the stage and says
 * why; the example config's pipeline is valid.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gatewayConfigSchema } from '../../../gateway/config/schema.ts';
import { DEFAULT_STAGES, pipelineSchema } from '../../../gateway/pipeline/config.ts';

const messages = (input: unknown) => {
  const r = pipelineSchema.safeParse(input);
  assert.equal(r.success, false, 'expected the config to be refused');
  return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('pipeline config', () => {
  it('defaults to normalise, inventory, baselines, detect, modbus_reads, forwarding all', () => {
    const config = gatewayConfigSchema.parse({
      gateway: { id: 'gw', data_dir: '/tmp/x' },
      sources: {},
      central: { endpoint: 'ws://127.0.0.1:1/link' },
    });
    assert.equal(config.pipeline.forward, 'all');
    assert.deepEqual(
      config.pipeline.stages.map((s) => s.type),
      DEFAULT_STAGES.map((s) => s.type),
    );
  });

  it('refuses an unknown stage type, naming it and the known ones', () => {
    const m = messages({ stages: [{ type: 'detect' }, { type: 'compress' }] });
    assert.equal(m.length, 1);
    assert.match(
      m[0]!,
      /^stages\.1: unknown stage type 'compress' \(one of normalise, inventory, .*route\)$/,
    );
    assert.match(messages({ stages: [{ name: 'x' }] })[0]!, /a stage needs a `type`/);
  });

  it('refuses reduction before detection, pseudonymise before detect, normalise not first', () => {
    const m = messages({
      stages: [{ type: 'inventory' }, { type: 'sample', one_in: 10 }, { type: 'detect' }],
    });
    assert.deepEqual(m, [
      "stages.2: detect must come before 'sample' (stage 1): inventory, baselines and detection see every observation before any reduction",
    ]);
    assert.match(
      messages({ stages: [{ type: 'pseudonymise', fields: ['src.ip'] }, { type: 'detect' }] })[0]!,
      /^stages\.0: pseudonymise must come after detect/,
    );
    assert.match(
      messages({ stages: [{ type: 'detect' }, { type: 'normalise' }] })[0]!,
      /^stages\.1: normalise must be the first stage/,
    );
    assert.match(
      messages({ stages: [{ type: 'detect' }, { type: 'detect' }] }).join('\n'),
      /detect may appear once/,
    );
  });

  it('refuses duplicate names, an unknown key in a stage, a sample without a rate, a filter without a match', () => {
    assert.match(
      messages({
        stages: [{ type: 'detect' }, { type: 'sample', one_in: 2 }, { type: 'sample', interval_secs: 5 }],
      })[0]!,
      /stage name 'sample' is used twice/,
    );
    assert.match(
      messages({ stages: [{ type: 'aggregate', intervall_secs: 5 }] }).join('\n'),
      /stages\.0: Unrecognized key.*intervall_secs/,
    );
    assert.match(messages({ stages: [{ type: 'sample' }] })[0]!, /exactly one of one_in or interval_secs/);
    assert.match(messages({ stages: [{ type: 'filter' }] })[0]!, /filter needs `match` or `sigma`/);
    assert.match(messages({ forward: 'some' }).join('\n'), /^forward: /);
  });

  it('accepts every stage type in a possible order', () => {
    const r = pipelineSchema.safeParse({
      forward: 'security',
      stages: [
        { type: 'normalise' },
        { type: 'inventory' },
        { type: 'baselines' },
        { type: 'detect' },
        { type: 'pseudonymise', fields: ['fields.user'] },
        { type: 'filter', action: 'drop', match: { action: 'syslog.message', severity: [6, 7] } },
        { type: 'filter', name: 'no_debug', sigma: { sel: { severity: 7 }, condition: 'sel' } },
        { type: 'sample', match: { source: 'mqtt' }, interval_secs: 30 },
        { type: 'aggregate', match: { action: 'coap.*' }, numbers: ['fields.values'] },
        { type: 'modbus_reads' },
        { type: 'dedupe', window_secs: 5 },
        { type: 'route', match: { action: 'modbus.write_*' }, lane: 'alert' },
      ],
    });
    assert.equal(r.success, true, JSON.stringify(r.error?.issues));
  });
});
