/**
 * RELP, rsyslog's Reliable Event Logging Protocol: framing (frame.ts) and session offers
 * (offers.ts). Pure codecs; the gateway's RELP source (gateway/sources/relp) is the socket side.
 */
export * from './frame.ts';
export * from './offers.ts';
