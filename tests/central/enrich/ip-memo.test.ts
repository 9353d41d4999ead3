/**
 * Address classification is remembered per address (central/enrich/ip.ts): the remembered answers
 * must be what a fresh check gives, for any address, any OT network list, in any order, and a list
 * made anew (a config reload) must not get the old list's answers.
 */
import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { cidrList, ipInfo, ipScope } from '../../../central/enrich/ip.ts';

const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
// A few ranges the scopes and the OT lists care about, so that hits are frequent.
const near = fc
  .tuple(
    fc.constantFrom('10.1', '192.168', '127.0', '169.254', '203.0', '8.8', '100.64'),
    fc.nat(255),
    fc.nat(255),
  )
  .map(([a, b, c]) => `${a}.${b}.${c}`);
const address = fc.oneof(
  v4,
  near,
  near.map((a) => `::ffff:${a}`),
  fc.ipV6(),
  fc.constantFrom('not-an-ip', ''),
);

/** The answer without any memo: the same ranges, checked afresh. */
function fresh(list: BlockList, ip: string): boolean | undefined {
  const info = ipInfo(ip, undefined, { geo: false });
  if (!info) return undefined;
  return list.check(info.ip, info.ip.includes(':') ? 'ipv6' : 'ipv4');
}

describe('remembered address classification', () => {
  it('matches a fresh check for any address and OT list, asked in any order, twice', () => {
    fc.assert(
      fc.property(
        fc.array(address, { minLength: 1, maxLength: 40 }),
        fc.constantFrom(['10.1.0.0/16'], ['192.168.7.0/24', '8.8.8.0/24'], ['fd00::/8', '10.1.2.0/24']),
        (ips, cidrs) => {
          const ot = cidrList(cidrs);
          const reference = cidrList(cidrs);
          for (const ip of [...ips, ...[...ips].reverse()]) {
            const info = ipInfo(ip, ot, { geo: false });
            assert.equal(info?.ot, fresh(reference, ip), ip);
            assert.equal(info?.scope, ipScope(ip));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a new OT list (a reload) gets its own answers, not the old list's", () => {
    const before = cidrList(['10.1.0.0/16']);
    assert.equal(ipInfo('10.1.2.3', before)?.ot, true);
    const after = cidrList(['192.168.0.0/16']);
    assert.equal(ipInfo('10.1.2.3', after)?.ot, false);
    assert.equal(ipInfo('192.168.1.1', after)?.ot, true);
    assert.equal(ipInfo('10.1.2.3', before)?.ot, true);
  });
});
