/**
 * Config building blocks shared by the gateway's components: listen addresses and TLS blocks.
 */
export { listenSchema, parseListen } from '../../protocols/config/listen.ts';

export { tlsServerOptions, tlsServerSchema } from '../../protocols/config/tls.ts';
