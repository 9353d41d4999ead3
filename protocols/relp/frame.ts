/**
 * RELP framing (rsyslog's Reliable Event Logging Protocol, as librelp implements it):
 *
 *   RELP-FRAME = TXNR SP COMMAND SP DATALEN [SP DATA] TRAILER
 *   TXNR = 1*9DIGIT; COMMAND = 1*32ALPHA; DATALEN = 1*9DIGIT; TRAILER = LF
 *
 * DATA is present (after its SP) exactly when DATALEN > 0; with DATALEN 0 the trailer follows the
 * digits. A pure, incremental deframer: bytes in any fragmentation give the same frames. It never
 * throws: a broken frame is a typed error, after which the stream cannot be resynchronised (RELP
 * has no frame marker) and the deframer refuses more input. A DATALEN over `maxDataBytes` is not
 * buffered: the first `maxDataBytes` are kept and the rest skipped as it streams by (imrelp's
 * `oversizeMode="truncate"`), so a declared length never decides how much memory is used.
 */

/** librelp: 9 digits for the transaction number and the data length. */
export const RELP_MAX_NUMBER_DIGITS = 9;
/** librelp: at most 32 letters in a command name. */
export const RELP_MAX_COMMAND_CHARS = 32;
/** Transaction numbers wrap from 999,999,999 back to 1 (0 is for server hints such as serverclose). */
export const RELP_MAX_TXNR = 999_999_999;

export interface RelpFrame {
  txnr: number;
  command: string;
  data: Uint8Array;
  /** Set when DATALEN exceeded the cap: `data` holds the first `maxDataBytes` of `declaredBytes`. */
  truncated?: { declaredBytes: number };
}

export type RelpFrameErrorCode =
  'bad_txnr' | 'bad_command' | 'bad_datalen' | 'bad_separator' | 'bad_trailer' | 'truncated_stream';

export interface RelpFrameError {
  code: RelpFrameErrorCode;
  message: string;
  /** Stream offset of the offending byte. */
  offset: number;
}

export interface RelpPushResult {
  frames: RelpFrame[];
  /** Set once; afterwards the deframer accepts nothing more. */
  error?: RelpFrameError;
}

export interface RelpDeframerOptions {
  /** Largest DATA kept per frame; longer data is truncated (the frame is still whole). */
  maxDataBytes: number;
}

const SP = 0x20;
const LF = 0x0a;
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;
const isAlpha = (b: number) => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);

type State = 'txnr' | 'command' | 'datalen' | 'data' | 'skip' | 'trailer' | 'dead';

export interface RelpDeframer {
  push(chunk: Uint8Array): RelpPushResult;
  /** The peer closed: a frame in progress is a `truncated_stream` error. */
  end(): RelpPushResult;
  /** Bytes of a frame in progress held in memory. */
  readonly buffered: number;
}

export function createRelpDeframer(options: RelpDeframerOptions): RelpDeframer {
  const maxData = Math.max(0, Math.floor(options.maxDataBytes));
  let state: State = 'txnr';
  let digits = 0;
  let txnr = 0;
  let command = '';
  let datalen = 0;
  let keep = 0; // bytes of data to keep
  let parts: Uint8Array[] = [];
  let got = 0; // data bytes kept so far
  let skip = 0; // data bytes still to skip (over the cap)
  let offset = 0; // stream offset of the next byte
  let started = false; // inside a frame

  const reset = () => {
    state = 'txnr';
    digits = 0;
    txnr = 0;
    command = '';
    datalen = 0;
    keep = 0;
    parts = [];
    got = 0;
    skip = 0;
    started = false;
  };

  const fail = (out: RelpPushResult, code: RelpFrameErrorCode, message: string, at: number) => {
    state = 'dead';
    parts = [];
    out.error = { code, message, offset: at };
    return out;
  };

  const finish = (out: RelpPushResult) => {
    let data: Uint8Array;
    if (parts.length === 0) data = new Uint8Array(0);
    else if (parts.length === 1) data = parts[0]!;
    else {
      data = new Uint8Array(got);
      let o = 0;
      for (const p of parts) {
        data.set(p, o);
        o += p.length;
      }
    }
    const frame: RelpFrame = { txnr, command, data };
    if (datalen > keep) frame.truncated = { declaredBytes: datalen };
    out.frames.push(frame);
    reset();
  };

  return {
    get buffered() {
      return got;
    },
    push(chunk) {
      const out: RelpPushResult = { frames: [] };
      if (state === 'dead') return fail(out, 'bad_separator', 'input after a framing error', offset);
      let i = 0;
      const n = chunk.length;
      while (i < n) {
        const at = offset + i;
        switch (state) {
          case 'txnr': {
            const b = chunk[i]!;
            if (isDigit(b)) {
              started = true;
              if (++digits > RELP_MAX_NUMBER_DIGITS)
                return fail(out, 'bad_txnr', 'transaction number longer than 9 digits', at);
              txnr = txnr * 10 + (b - 0x30);
            } else if (b === SP && digits > 0) {
              state = 'command';
            } else {
              return fail(
                out,
                'bad_txnr',
                `byte 0x${b.toString(16)} where a transaction number was expected`,
                at,
              );
            }
            i++;
            break;
          }
          case 'command': {
            const b = chunk[i]!;
            if (isAlpha(b)) {
              if (command.length >= RELP_MAX_COMMAND_CHARS)
                return fail(out, 'bad_command', 'command longer than 32 letters', at);
              command += String.fromCharCode(b);
            } else if (b === SP && command.length > 0) {
              state = 'datalen';
              digits = 0;
            } else {
              return fail(out, 'bad_command', `byte 0x${b.toString(16)} in a command name`, at);
            }
            i++;
            break;
          }
          case 'datalen': {
            const b = chunk[i]!;
            if (isDigit(b)) {
              if (++digits > RELP_MAX_NUMBER_DIGITS)
                return fail(out, 'bad_datalen', 'data length longer than 9 digits', at);
              datalen = datalen * 10 + (b - 0x30);
              i++;
            } else if (digits === 0) {
              return fail(
                out,
                'bad_datalen',
                `byte 0x${b.toString(16)} where a data length was expected`,
                at,
              );
            } else if (datalen === 0) {
              state = 'trailer'; // no SP and no data: the trailer follows (librelp relpframe.c)
            } else if (b === SP) {
              keep = Math.min(datalen, maxData);
              skip = datalen - keep;
              state = keep > 0 ? 'data' : 'skip';
              i++;
            } else {
              return fail(out, 'bad_separator', `byte 0x${b.toString(16)} after the data length`, at);
            }
            break;
          }
          case 'data': {
            const take = Math.min(keep - got, n - i);
            parts.push(chunk.subarray(i, i + take));
            got += take;
            i += take;
            if (got === keep) state = skip > 0 ? 'skip' : 'trailer';
            break;
          }
          case 'skip': {
            const take = Math.min(skip, n - i);
            skip -= take;
            i += take;
            if (skip === 0) state = 'trailer';
            break;
          }
          case 'trailer': {
            const b = chunk[i]!;
            if (b !== LF)
              return fail(
                out,
                'bad_trailer',
                `byte 0x${b.toString(16)} where the LF trailer was expected`,
                at,
              );
            i++;
            finish(out);
            break;
          }
        }
      }
      offset += n;
      return out;
    },
    end() {
      const out: RelpPushResult = { frames: [] };
      if (state === 'dead' || !started) return out;
      return fail(out, 'truncated_stream', 'the stream ended inside a frame', offset);
    },
  };
}

const encoder = new TextEncoder();

/** One frame's bytes: `TXNR SP COMMAND SP DATALEN [SP DATA] LF`. */
export function encodeRelpFrame(txnr: number, command: string, data: Uint8Array | string = ''): Uint8Array {
  const body = typeof data === 'string' ? encoder.encode(data) : data;
  const head = encoder.encode(
    body.length > 0 ? `${txnr} ${command} ${body.length} ` : `${txnr} ${command} ${body.length}`,
  );
  const out = new Uint8Array(head.length + body.length + 1);
  out.set(head, 0);
  out.set(body, head.length);
  out[out.length - 1] = LF;
  return out;
}

/**
 * A response (`rsp`): a three-digit code, SP, a text of at most 80 characters (librelp scrsp.c),
 * and optional data after an LF (the server's offers in answer to `open`).
 */
export function encodeRelpResponse(txnr: number, code: number, text: string, data?: string): Uint8Array {
  const line = `${String(code).padStart(3, '0')} ${text.slice(0, 80).replace(/\n/g, ' ')}`;
  return encodeRelpFrame(txnr, 'rsp', data === undefined ? line : `${line}\n${data}`);
}
