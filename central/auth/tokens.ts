/**
 * API tokens minted by `siem-central token` (and the demo): a random secret, of which the config
 * keeps only the SHA-256 digest (`api.tokens[].token_sha256`). Both come from
 * server-shared/web-auth/session.ts, which checks a presented token against the digests.
 */
export { sha256Hex, randomSecret as newToken } from '../../server-shared/web-auth/session.ts';
