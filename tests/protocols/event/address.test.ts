/**
 * protocols/event/address.ts: the one place that turns a dual-stack socket's IPv4-mapped peer
 * address (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2) into the IPv4 address events carry, and the
 * `unknown` of a socket that has no address (closed before it was read).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeIp, unmapIpv4 } from '../../../protocols/event/address.ts';

describe('peer addresses', () => {
  it('unmaps IPv4-mapped IPv6 addresses and leaves every other address alone', () => {
    assert.equal(unmapIpv4('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(unmapIpv4('::FFFF:192.0.2.7'), '192.0.2.7');
    assert.equal(unmapIpv4('10.0.0.1'), '10.0.0.1');
    assert.equal(unmapIpv4('::1'), '::1');
    assert.equal(unmapIpv4('2001:db8::ffff:10.0.0.1'), '2001:db8::ffff:10.0.0.1');
    assert.equal(unmapIpv4('fe80::1%eth0'), 'fe80::1%eth0');
    assert.equal(unmapIpv4('::ffff:host'), '::ffff:host');
  });

  it('names a missing socket address unknown', () => {
    assert.equal(normalizeIp(undefined), 'unknown');
    assert.equal(normalizeIp(''), 'unknown');
    assert.equal(normalizeIp('::ffff:127.0.0.1'), '127.0.0.1');
  });
});
