/**
 * Config building blocks shared by the gateway's components: listen addresses and TLS blocks.
 */
export { listenSchema, parseListen } from '../../server-shared/config/listen.ts';

export { tlsServerOptions, tlsServerSchema } from '../../server-shared/config/tls.ts';
