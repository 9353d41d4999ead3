/**
 * MQTT as the gateway reads it: framing, a packet decoder for captures and malformed-packet
 * detection, topic filters (matching, ACL patterns, classification).
 */
export * from './decode.ts';
export * from './framing.ts';
export * from './topic.ts';
export * from './types.ts';
