/**
 * Config building blocks shared by the gateway's components: listen addresses and TLS blocks.
 */
import { z } from 'zod';

export { listenSchema, parseListen } from '../../protocols/config/listen.ts';

export const tlsServerSchema = z.strictObject({
  cert_file: z.string().describe('PEM certificate chain.'),
  key_file: z.string().describe('PEM private key (keep it 0600).'),
  ca_file: z.string().optional().describe('CA for client certificates; when set, clients must present one.'),
});
