/** ISO-on-TCP (RFC 1006 §3): S7 controllers listen on TCP 102. */
export const S7COMM_PORT = 102;
