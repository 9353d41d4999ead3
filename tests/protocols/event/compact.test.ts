/**
 * protocols/event/compact.ts: fields without undefined values (MQTT, CoAP, the MQTT client), and
 * without null values too when asked (syslog), keeping false, 0 and '' which are data.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compact } from '../../../protocols/event/compact.ts';

describe('compact', () => {
  it('drops undefined and keeps null, false, 0 and the empty string', () => {
    assert.deepEqual(compact({ a: undefined, b: null, c: false, d: 0, e: '' }), {
      b: null,
      c: false,
      d: 0,
      e: '',
    });
  });

  it('drops null too with dropNull', () => {
    assert.deepEqual(compact({ a: undefined, b: null, c: false }, { dropNull: true }), { c: false });
  });
});
