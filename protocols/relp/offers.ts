/**
 * RELP session offers: the data of `open` and of the server's `rsp` to it, one offer a line,
 * `name[=value[,value...]]` (librelp offers.c). The client offers `relp_version`, `relp_software`
 * and `commands`; the server answers with what it will use: the lower protocol version, its own
 * software, and the commands both sides support. Pure and bounded: a hostile `open` cannot make
 * more than MAX_OFFERS offers of MAX_VALUES values.
 */

export const MAX_OFFERS = 32;
export const MAX_VALUES = 64;
export const MAX_OFFER_CHARS = 255;

export type RelpOffers = Map<string, string[]>;

export interface RelpOfferError {
  code: 'bad_offer' | 'too_many_offers' | 'missing_command' | 'bad_version';
  message: string;
}

export type RelpOfferResult = { ok: true; offers: RelpOffers } | { ok: false; error: RelpOfferError };

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Parses the offers of an `open` frame's data. */
export function parseRelpOffers(data: Uint8Array | string): RelpOfferResult {
  const text = typeof data === 'string' ? data : decoder.decode(data);
  const offers: RelpOffers = new Map();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line === '') continue;
    if (offers.size >= MAX_OFFERS)
      return { ok: false, error: { code: 'too_many_offers', message: `more than ${MAX_OFFERS} offers` } };
    const eq = line.indexOf('=');
    const name = eq < 0 ? line : line.slice(0, eq);
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(name))
      return {
        ok: false,
        error: { code: 'bad_offer', message: `offer name ${JSON.stringify(name.slice(0, 40))}` },
      };
    const values = eq < 0 || eq === line.length - 1 ? [] : line.slice(eq + 1).split(',');
    if (values.length > MAX_VALUES)
      return {
        ok: false,
        error: { code: 'too_many_offers', message: `offer ${name}: more than ${MAX_VALUES} values` },
      };
    offers.set(
      name,
      values.map((v) => v.slice(0, MAX_OFFER_CHARS)),
    );
  }
  return { ok: true, offers };
}

export interface RelpServerIdentity {
  /** Highest protocol version spoken (librelp speaks 0). */
  version: number;
  /** `name,version,url`, as librelp writes relp_software. */
  software: string;
  /** Commands the server supports; `syslog` is required of the client. */
  commands: readonly string[];
  required: readonly string[];
}

export interface RelpNegotiation {
  version: number;
  commands: string[];
  /** The client's relp_software (its name, version and URL), for the events. */
  peerSoftware?: string;
  /** The data of the `rsp` that accepts the session: `200 OK` then the server's offers. */
  response: string;
}

/** What the server answers to a client's offers (librelp copen.c selectOffers). */
export function negotiateRelp(
  offers: RelpOffers,
  server: RelpServerIdentity,
): { ok: true; value: RelpNegotiation } | { ok: false; error: RelpOfferError } {
  const v = offers.get('relp_version')?.[0];
  if (v === undefined || !/^\d{1,9}$/.test(v))
    return { ok: false, error: { code: 'bad_version', message: 'relp_version missing or not a number' } };
  const version = Math.min(Number(v), server.version);
  const offered = new Set(offers.get('commands') ?? []);
  const missing = server.required.filter((c) => !offered.has(c));
  if (missing.length > 0)
    return {
      ok: false,
      error: {
        code: 'missing_command',
        message: `required command not supported by client: ${missing.join(',')}`,
      },
    };
  const commands = server.commands.filter((c) => offered.has(c));
  const software = offers.get('relp_software');
  return {
    ok: true,
    value: {
      version,
      commands,
      peerSoftware: software && software.length > 0 ? software.join(',') : undefined,
      response: `relp_version=${version}\nrelp_software=${server.software}\ncommands=${commands.join(',')}`,
    },
  };
}
