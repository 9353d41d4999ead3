/**
 * Gateway authentication on the link (SPEC §2): central sends a random challenge, the gateway
 * answers with an Ed25519 signature over it, made with the private key it generated at
 * enrollment. Central keeps only public keys, and nothing reusable ever crosses the wire, even
 * on a link without TLS. Pure functions over node:crypto; no I/O.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';

/** SPEC §2.1: the nonce is 32 random bytes, base64url. */
export function newLinkNonce(): string {
  return randomBytes(32).toString('base64url');
}

/** What the gateway signs: a fixed context string, the gateway id and the nonce (SPEC §2.3). */
export function linkProofPayload(gateway: string, nonce: string): Buffer {
  return Buffer.from(`edge-siem link v1\n${gateway}\n${nonce}`, 'utf8');
}

export function signLinkProof(privateKeyPem: string, gateway: string, nonce: string): string {
  return sign(null, linkProofPayload(gateway, nonce), createPrivateKey(privateKeyPem)).toString('base64url');
}

/** True only for a valid signature by this public key; never throws on bad input. */
export function verifyLinkProof(
  publicKeyPem: string,
  gateway: string,
  nonce: string,
  proof: string,
): boolean {
  try {
    const key = createPublicKey(publicKeyPem);
    if (key.asymmetricKeyType !== 'ed25519') return false;
    return verify(null, linkProofPayload(gateway, nonce), key, Buffer.from(proof, 'base64url'));
  } catch {
    return false;
  }
}

/** A new gateway key pair, PEM encoded (SPKI public, PKCS#8 private). */
export function generateGatewayKeys(): { publicKey: string; privateKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** Checks that a PEM string is an Ed25519 public key, as enrollment requires. */
export function isEd25519PublicKey(pem: string): boolean {
  // createPublicKey also accepts a private key (deriving its public half): refuse one outright,
  // so a mistaken enrollment can never leave a private key in central's database.
  if (!/^-----BEGIN PUBLIC KEY-----/.test(pem.trim()) || /PRIVATE/.test(pem)) return false;
  try {
    return createPublicKey(pem).asymmetricKeyType === 'ed25519';
  } catch {
    return false;
  }
}
