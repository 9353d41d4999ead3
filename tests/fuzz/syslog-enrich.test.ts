/**
 * Properties of the syslog message parsers (CEF, key=value, sshd, PAM, su, sudo, account tools,
 * netfilter, Cisco): any program name and text gives a result or nothing, never an exception,
 * and the event stays valid; CEF written with the guide's escaping rules reads back to the same
 * header and extension values; long hostile inputs (64 KiB of separators) stay fast.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatCef } from '../../protocols/cef/format.ts';
import { eventSchema } from '../../protocols/event/schema.ts';
import { enrichSyslogMessage, parseCef, parseSyslog, syslogToEvent } from '../../protocols/syslog/index.ts';

const PROGRAMS = [
  'sshd',
  'sudo',
  'su',
  'useradd',
  'usermod',
  'passwd',
  'kernel',
  'sshd(pam_unix)',
  'CEF',
  null,
];
const PIECES = [
  'Failed password for ',
  'Accepted publickey for ',
  'invalid user ',
  ' from ',
  ' port ',
  'ssh2',
  'pam_unix(sshd:auth): ',
  'authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=',
  ' user=',
  'session opened for user ',
  ' : TTY=',
  ' ; PWD=',
  ' ; USER=',
  ' ; COMMAND=',
  'new user: name=',
  ', UID=',
  "add 'x' to group 'y'",
  'IN=',
  ' SRC=',
  ' DST=',
  ' SPT=',
  ' DPT=',
  ' PROTO=TCP',
  '%SYS-5-CONFIG_I: ',
  'Configured from console by ',
  '%SEC_LOGIN-4-LOGIN_FAILED: ',
  '[user: ',
  '] [Source: ',
  'CEF:0|',
  '|',
  '\\',
  '=',
  ' ',
  'a=1 ',
  'list 101 denied tcp ',
  '(',
  ') -> ',
  '10.0.0.1',
  '::1',
  '<ios-log-msg><facility>SYS</facility><severity>5</severity><msg-id>CONFIG_I</msg-id>',
];

test('any program and text: never throws, the event stays valid', () => {
  const text = fc
    .array(fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 12 })), { maxLength: 30 })
    .map((a) => a.join(''));
  fc.assert(
    fc.property(fc.constantFrom(...PROGRAMS), text, (program, msg) => {
      enrichSyslogMessage({ program, tag: program ? `${program}:` : null, msg });
      const line = `<86>Mar  1 11:59:58 h ${program ?? 'app'}[1]: ${msg}`;
      const r = parseSyslog(line, { now: new Date('2026-03-01T12:00:00Z') });
      assert.ok(r.ok);
      const e = syslogToEvent(r.message, {
        received: new Date(),
        peer: { ip: '10.0.0.2', port: 1 },
        transport: 'udp',
      });
      const v = eventSchema.safeParse({ ...e, v: 1, id: 'g:1', gateway: 'g', seq: 1 });
      assert.ok(v.success, v.success ? '' : JSON.stringify(v.error.issues[0]));
    }),
    { numRuns: 2000 },
  );
});

const escHeader = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|');
const escValue = (s: string) =>
  s.replace(/\\/g, '\\\\').replace(/=/g, '\\=').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

test('CEF: written with the escaping rules, read back the same', () => {
  const headerText = fc.string({ maxLength: 20 }).filter((s) => !/[\r\n]/.test(s));
  // Values: no leading/trailing blanks (a value ends at the space before the next key).
  const value = fc
    .string({ minLength: 1, maxLength: 20 })
    .map((s) => s.trim())
    .filter((s) => s.length > 0 && !/\s[A-Za-z0-9_.[\]-]+=/.test(s) && !/\s\S*\\$/.test(s));
  const key = fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,10}$/);
  fc.assert(
    fc.property(
      fc.array(headerText, { minLength: 5, maxLength: 5 }),
      fc.dictionary(key, value, { maxKeys: 6 }),
      (h, ext) => {
        const extText = Object.entries(ext)
          .map(([k, v]) => `${k}=${escValue(v)}`)
          .join(' ');
        const line = `CEF:0|${h.map(escHeader).join('|')}|7|${extText}`;
        const r = parseCef(line);
        assert.ok(r.ok, line);
        assert.deepEqual(
          [r.cef.deviceVendor, r.cef.deviceProduct, r.cef.deviceVersion, r.cef.signatureId, r.cef.name],
          h,
        );
        assert.deepEqual(r.cef.extensions, { ...ext });
      },
    ),
    { numRuns: 1000 },
  );
});

test('CEF: what central writes (protocols/cef/format.ts), the gateway reads back', () => {
  const text = fc.string({ maxLength: 16 }).filter((s) => !/[\r\n]/.test(s));
  const value = fc
    .string({ minLength: 1, maxLength: 16 })
    .map((s) => s.trim())
    .filter((s) => s.length > 0 && !/\s[A-Za-z0-9_.[\]-]+=/.test(s) && !/\s\S*\\$/.test(s));
  fc.assert(
    fc.property(
      fc.array(text, { minLength: 5, maxLength: 5 }),
      fc.integer({ min: 0, max: 10 }),
      fc.dictionary(fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,8}$/), value, { maxKeys: 5 }),
      ([vendor, product, productVersion, signatureId, name], severity, ext) => {
        const line = formatCef({
          vendor: vendor!,
          product: product!,
          productVersion: productVersion!,
          signatureId: signatureId!,
          name: name!,
          severity,
          extension: Object.entries(ext),
        });
        const r = parseCef(line);
        assert.ok(r.ok, line);
        assert.deepEqual(
          [r.cef.deviceVendor, r.cef.deviceProduct, r.cef.deviceVersion, r.cef.signatureId, r.cef.name],
          [vendor, product, productVersion, signatureId, name],
        );
        assert.equal(r.cef.severity, String(severity));
        assert.deepEqual(r.cef.extensions, { ...ext });
      },
    ),
    { numRuns: 500 },
  );
});

test('hostile 64 KiB inputs are parsed in linear time', () => {
  const inputs = [
    ' '.repeat(65_000) + 'x',
    'a='.repeat(32_000),
    'CEF:0|' + '\\|'.repeat(30_000),
    'Failed password for ' + 'x '.repeat(30_000),
    'IN= SRC= DST= ' + 'A=1 '.repeat(15_000),
    '[user: '.repeat(9000),
    'x : ' + ' ; '.repeat(20_000) + 'TTY=',
  ];
  for (const msg of inputs) {
    for (const program of PROGRAMS) {
      const started = performance.now();
      enrichSyslogMessage({ program, tag: null, msg });
      const ms = performance.now() - started;
      assert.ok(ms < 250, `${program}: ${ms.toFixed(0)} ms on ${msg.slice(0, 20)}...`);
    }
  }
});
