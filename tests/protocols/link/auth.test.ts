/**
 * Link authentication (SPEC §2): a proof verifies only for the key, gateway and nonce it was made
 * for; garbage in any argument is a plain `false`, never an exception.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  generateGatewayKeys,
  isEd25519PublicKey,
  newLinkNonce,
  signLinkProof,
  verifyLinkProof,
} from '../../../protocols/link/auth.ts';

const keys = generateGatewayKeys();
const other = generateGatewayKeys();

describe('link proofs', () => {
  it('verifies for the right key, gateway and nonce only', () => {
    const nonce = newLinkNonce();
    const proof = signLinkProof(keys.privateKey, 'gw-1', nonce);
    assert.equal(verifyLinkProof(keys.publicKey, 'gw-1', nonce, proof), true);
    assert.equal(verifyLinkProof(other.publicKey, 'gw-1', nonce, proof), false, 'another key');
    assert.equal(verifyLinkProof(keys.publicKey, 'gw-2', nonce, proof), false, 'another gateway');
    assert.equal(
      verifyLinkProof(keys.publicKey, 'gw-1', newLinkNonce(), proof),
      false,
      'another nonce (replay)',
    );
  });

  it('nonces are 32 random bytes and never repeat', () => {
    const seen = new Set(Array.from({ length: 1000 }, () => newLinkNonce()));
    assert.equal(seen.size, 1000);
    assert.equal(Buffer.from([...seen][0]!, 'base64url').length, 32);
  });

  it('accepts only Ed25519 public keys at enrollment', () => {
    assert.equal(isEd25519PublicKey(keys.publicKey), true);
    assert.equal(isEd25519PublicKey(keys.privateKey), false, 'a private key is refused, never stored');
    assert.equal(isEd25519PublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----'), false);
    assert.equal(isEd25519PublicKey(''), false);
  });

  it('any garbage in gives false, never an exception', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (pem, gateway, nonce, proof) => {
        assert.equal(verifyLinkProof(pem, gateway, nonce, proof), false);
        assert.equal(verifyLinkProof(keys.publicKey, gateway, nonce, proof), false);
      }),
      { numRuns: 300 },
    );
  });
});
