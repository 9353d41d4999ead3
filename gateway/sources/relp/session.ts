/**
 * One RELP session on one connection (librelp's server side): `open` with its offers first, then
 * `syslog` transactions, each answered `200 OK` only after its event is durable (ledger.ts), in
 * the order they came; `close` is answered once everything before it is, then the connection
 * ends. The window: with `max_window` transactions (or `max_window_bytes` of data) unanswered the
 * socket stops being read, so a sender with a larger window waits in TCP, and the memory a session
 * holds is bounded. A framing or protocol error ends the session with a
 * `500` where a transaction number is known; a failed queue write ends it without any answer, so
 * that the sender keeps those frames and sends them again.
 */
import type net from 'node:net';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import {
  createRelpDeframer,
  encodeRelpResponse,
  negotiateRelp,
  parseRelpOffers,
  RELP_MAX_TXNR,
  type RelpFrame,
} from '../../../protocols/relp/index.ts';
import type { RelpSourceConfig } from './config.ts';
import type { LedgerSession, PeerLedger } from './ledger.ts';

export const RELP_SOFTWARE = 'edge-siem,1,-';

export interface SessionDeps {
  config: RelpSourceConfig;
  ledger: PeerLedger;
  /** Syslog frames → events (the source's decoder). */
  decode: (frames: RelpFrame[]) => PendingEvent[];
  /** A protocol error (typed code, message), to count and report. */
  onError: (code: string, message: string) => void;
  onOpen: (peerSoftware: string | undefined) => void;
}

const next = (txnr: number) => (txnr >= RELP_MAX_TXNR ? 1 : txnr + 1);

export function runSession(socket: net.Socket, deps: SessionDeps): void {
  const { config } = deps;
  const deframer = createRelpDeframer({ maxDataBytes: config.max_message_bytes });
  const ledgerSession: LedgerSession = { checked: 0 };
  let open = false;
  let expected: number | undefined;
  let unacked = 0;
  let unackedBytes = 0;
  let dead = false;
  /** Answers go out in transaction order: each step waits for the one before. */
  let order: Promise<void> = Promise.resolve();

  const write = (bytes: Uint8Array) => {
    if (!socket.destroyed && socket.writable) socket.write(bytes);
  };
  /** Reads nothing more; answers what is committed before it, then the 500 (if any), then ends. */
  const kill = (code: string, message: string, txnr?: number) => {
    if (dead) return;
    dead = true;
    deps.onError(code, message);
    order = order.then(() => {
      if (txnr !== undefined) write(encodeRelpResponse(txnr, 500, message));
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    });
  };
  const full = () => unacked >= config.max_window || unackedBytes >= config.max_window_bytes;
  const settle = (n: number, bytes: number) => {
    unacked -= n;
    unackedBytes -= bytes;
    if (!full() && socket.isPaused() && !dead) socket.resume();
  };

  /** Commits a run of syslog frames and answers them, after everything before them. */
  const commitRun = (frames: RelpFrame[]) => {
    const bytes = frames.reduce((sum, f) => sum + f.data.length, 0);
    unacked += frames.length;
    unackedBytes += bytes;
    if (full()) socket.pause();
    const committed = deps.ledger.commit(ledgerSession, frames, deps.decode);
    order = order.then(() =>
      committed.then(
        () => {
          const parts = frames.map((f) => encodeRelpResponse(f.txnr, 200, 'OK'));
          write(Buffer.concat(parts));
          settle(frames.length, bytes);
        },
        (error: Error) => {
          // No answer: the sender keeps the frames and sends them again on its next session.
          settle(frames.length, bytes);
          if (!dead) deps.onError('queue_write_failed', `queue write failed: ${error.message}`);
          dead = true;
          socket.destroy();
        },
      ),
    );
  };

  const control = (frame: RelpFrame) => {
    const { txnr, command } = frame;
    if (command === 'open') {
      if (open) {
        order = order.then(() => write(encodeRelpResponse(txnr, 200, 'connection already open - ignored')));
        return;
      }
      const parsed = parseRelpOffers(frame.data);
      if (!parsed.ok) return kill(parsed.error.code, parsed.error.message, txnr);
      const n = negotiateRelp(parsed.offers, {
        version: 0,
        software: RELP_SOFTWARE,
        commands: ['syslog'],
        required: ['syslog'],
      });
      if (!n.ok) return kill(n.error.code, n.error.message, txnr);
      open = true;
      deps.onOpen(n.value.peerSoftware);
      order = order.then(() => write(encodeRelpResponse(txnr, 200, 'OK', n.value.response)));
      return;
    }
    if (command === 'close') {
      dead = true; // nothing after close is read
      order = order.then(() => {
        write(encodeRelpResponse(txnr, 200, 'OK'));
        socket.end();
      });
      return;
    }
    kill('unknown_command', `command not supported: ${command.slice(0, 32)}`, txnr);
  };

  const handle = (frames: RelpFrame[]) => {
    let run: RelpFrame[] = [];
    for (const frame of frames) {
      if (dead) return;
      // librelp relpframe.c: transaction numbers follow one another (0 is for hints).
      if (frame.txnr !== 0) {
        if (expected !== undefined && frame.txnr !== expected) {
          if (run.length > 0) commitRun(run);
          return kill('bad_txnr', `transaction ${frame.txnr} where ${expected} was expected`, frame.txnr);
        }
        expected = next(frame.txnr);
      }
      if (frame.command === 'syslog') {
        if (!open) return kill('not_open', 'syslog before open', frame.txnr);
        run.push(frame);
        continue;
      }
      if (run.length > 0) commitRun(run);
      run = [];
      control(frame);
    }
    if (run.length > 0 && !dead) commitRun(run);
  };

  socket.on('data', (chunk: Buffer) => {
    if (dead) return;
    const r = deframer.push(chunk);
    handle(r.frames);
    if (r.error) kill(r.error.code, r.error.message);
  });
  socket.on('end', () => {
    const r = deframer.end();
    if (r.error && !dead) deps.onError(r.error.code, r.error.message);
  });
}
