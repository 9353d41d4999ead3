/**
 * The link over TLS: enrollment over https and the link over wss:// with central's CA pinned on
 * the gateway; an unrelated CA is refused (pinning); when central requires client certificates,
 * a gateway without one cannot even open the link. Certificates come from the real openssl.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { requireTool, skipUnmet, waitFor } from '../support/env.ts';
import { pending } from '../support/link-client.ts';
import { startTestCentral, startTestGateway, type TestCentral } from '../support/stack.ts';
import { makeTestPki, type TestPki } from '../support/tls.ts';

describe('link over TLS', () => {
  let pki: TestPki | undefined;
  let c: TestCentral | undefined;
  before(async (t) => {
    if (!requireTool(t as never, 'openssl', 'openssl')) return;
    pki = makeTestPki();
    c = await startTestCentral(
      { type: 'pglite' },
      {
        http: { tls: { cert_file: pki.serverCert, key_file: pki.serverKey, ca_file: pki.caFile } },
        clientTls: { ca: pki.read(pki.caFile), cert: pki.read(pki.clientCert), key: pki.read(pki.clientKey) },
      },
    );
  });
  after(async () => {
    await c?.central.stop();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  it('enrolls over https and delivers over wss:// with the CA pinned and a client certificate', async (t) => {
    if (!c || !pki) return skipUnmet(t);
    assert.match(c.central.linkUrl(), /^wss:\/\//);
    const gw = await startTestGateway(
      { linkUrl: c.central.linkUrl(), gatewayId: c.gatewayId, privateKey: c.privateKey },
      { syslog: false, tls: { ca_file: pki.caFile, cert_file: pki.clientCert, key_file: pki.clientKey } },
    );
    try {
      await gw.emit([pending('over tls')]);
      await waitFor(() => (gw.gateway.queue.depth.events === 0 ? true : undefined), {
        what: 'the event acked',
      });
      assert.equal(gw.gateway.forwarder.connected, true);
    } finally {
      await gw.stop();
    }
  });

  it('refuses central when its certificate does not chain to the pinned CA', async (t) => {
    if (!c || !pki) return skipUnmet(t);
    const gw = await startTestGateway(
      { linkUrl: c.central.linkUrl(), gatewayId: c.gatewayId, privateKey: c.privateKey },
      {
        syslog: false,
        tls: { ca_file: pki.otherCaFile, cert_file: pki.clientCert, key_file: pki.clientKey },
      },
    );
    try {
      await gw.emit([pending('must not leave')]);
      const status = await waitFor(
        async () => {
          const s = (await gw.gateway.status()).link;
          return s.last_error ? s : undefined;
        },
        { what: 'a TLS error' },
      );
      assert.match(status.last_error ?? '', /certificate|self.signed|verify/i);
      assert.equal(status.connected, false);
      assert.equal(gw.gateway.queue.depth.events, 1, 'the event stays queued');
    } finally {
      await gw.stop();
    }
  });

  it('refuses a gateway without a client certificate when central requires one', async (t) => {
    if (!c || !pki) return skipUnmet(t);
    const gw = await startTestGateway(
      { linkUrl: c.central.linkUrl(), gatewayId: c.gatewayId, privateKey: c.privateKey },
      { syslog: false, tls: { ca_file: pki.caFile } },
    );
    try {
      await gw.emit([pending('no client cert')]);
      await waitFor(async () => ((await gw.gateway.status()).link.last_error ? true : undefined), {
        what: 'a refused handshake',
      });
      assert.equal(gw.gateway.forwarder.connected, false);
      assert.equal(gw.gateway.queue.depth.events, 1);
    } finally {
      await gw.stop();
    }
  });
});
