/**
 * CoAP as the gateway reads it (RFC 7252): the message codec and the names an event shows.
 */
export * from './codec.ts';
export * from './types.ts';
