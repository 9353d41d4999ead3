/**
 * The starting point of both format parsers (RFC 5424 and RFC 3164): a body in which every
 * header field is absent, so each parser only sets what its format actually carries.
 */
import type { SyslogBody } from './types.ts';

export function emptySyslogBody(): SyslogBody {
  return {
    timestamp: null,
    timestampText: null,
    hostname: null,
    appName: null,
    procId: null,
    msgId: null,
    structuredData: [],
    tag: null,
    programName: null,
    msg: '',
  };
}
