/**
 * Test certificates made with the real `openssl` command: a CA, a server certificate for
 * 127.0.0.1 and localhost, and a client certificate, all signed by that CA; and a second,
 * unrelated CA to prove that pinning refuses what the first did not sign. Also the check for
 * rsyslog's GnuTLS stream driver, which the tests that relay syslog over TLS need.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { missingPackage, requireTool, skipMissing } from './env.ts';
import { findRsyslog } from './rsyslog.ts';

/**
 * rsyslogd, openssl (for the certificates) and rsyslog's gtls stream driver (a module file, not a
 * command; Debian package rsyslog-gnutls), or a skip naming the one missing (a failure in CI).
 */
export function requireRsyslogTls(t: TestContext, rsyslogd = 'rsyslogd'): boolean {
  if (!requireTool(t, rsyslogd, 'rsyslog') || !requireTool(t, 'openssl', 'openssl')) return false;
  // Debian's install or the one unpacked beside syslog-ng, found as the RELP tests find theirs.
  if (findRsyslog(['lmnsd_gtls.so'])) return true;
  skipMissing(t, missingPackage('lmnsd_gtls.so (rsyslog TLS driver)', 'rsyslog-gnutls'));
  return false;
}

export interface TestPki {
  dir: string;
  caFile: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  otherCaFile: string;
  read(file: string): string;
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'siem-pki-'));
  const f = (name: string) => path.join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ca = (name: string) =>
    ssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      f(`${name}.key`),
      '-out',
      f(`${name}.pem`),
    );
  ca('test-ca');
  ca('other-ca');
  const leaf = (name: string, ext: string) => {
    ssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      f(`${name}.key`),
      '-out',
      f(`${name}.csr`),
    );
    writeFileSync(f(`${name}.ext`), ext);
    ssl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('test-ca.pem'),
      '-CAkey',
      f('test-ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      f(`${name}.ext`),
      '-out',
      f(`${name}.pem`),
    );
  };
  leaf('server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    caFile: f('test-ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server.key'),
    clientCert: f('client.pem'),
    clientKey: f('client.key'),
    otherCaFile: f('other-ca.pem'),
    read: (file) => readFileSync(file, 'utf8'),
  };
}
