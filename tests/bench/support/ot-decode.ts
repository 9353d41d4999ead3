/**
 * The capture path of each OT codec, as the capture source and `replay` run it: the file's bytes
 * through the pcap/pcapng reader and the gateway's own capture decoder
 * (gateway/sources/capture/decoder.ts: frame decoding, TCP reassembly or the UDP datagram, the
 * protocol's session and its mapping to `Event`). One pass decodes the whole capture and hands
 * every event to `emit`; it returns the protocol frames the decoder counted (DNP3 link frames,
 * S7comm messages, encapsulation messages, BACnet/IP messages, OPC UA messages), the unit of the
 * decode benchmark (tests/bench/ot-decode.bench.ts).
 */
import { createCaptureDecoder, type CaptureDecoderStats } from '../../../gateway/sources/capture/decoder.ts';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { iterateCapture } from '../../../protocols/pcap/index.ts';

export interface OtDecoder {
  /** Protocol name as the report shows it. */
  protocol: string;
  /** The trace, relative to ../shared/data: the protocol's largest there. */
  trace: string[];
  /** What one counted frame is. */
  unit: string;
  /** Decodes a whole capture; returns the protocol frames decoded. */
  pass(bytes: Uint8Array, emit: (event: PendingEvent) => void): number;
}

/** One pass of the gateway's capture decoder over a capture, counted by `frames`. */
function capturePass(frames: (stats: CaptureDecoderStats) => number) {
  return (bytes: Uint8Array, emit: (e: PendingEvent) => void): number => {
    const decoder = createCaptureDecoder();
    let frame = 0;
    for (const item of iterateCapture(bytes)) {
      if (item.type !== 'packet') continue;
      frame++;
      for (const e of decoder.packet(item.packet.linkType, item.packet.data, { frame, ts: item.packet.ts }))
        emit(e);
    }
    for (const e of decoder.flush()) emit(e);
    return frames(decoder.stats);
  };
}

/** The five codecs, each on its largest trace in ../shared/data (by protocol frames decoded). */
export const OT_DECODERS: readonly OtDecoder[] = [
  {
    protocol: 'DNP3',
    trace: ['dnp3', 'icsnpp', 'dnp3_example.pcap'],
    unit: 'link frames',
    pass: capturePass((s) => s.ot.dnp3.frames),
  },
  {
    protocol: 'S7comm',
    trace: ['s7comm', 'icsnpp', 's7comm_plus.pcap'],
    unit: 'TPKT frames',
    pass: capturePass((s) => s.ot.s7comm.messages),
  },
  {
    protocol: 'EtherNet/IP',
    trace: ['enip', 'icsnpp', 'enip_cip_example.pcap'],
    unit: 'encapsulation messages',
    pass: capturePass((s) => s.ot.enip.messages),
  },
  {
    protocol: 'BACnet',
    trace: ['bacnet', 'icsnpp', 'bacnet_services.pcap'],
    unit: 'BACnet messages',
    pass: capturePass((s) => s.ot.bacnet.messages),
  },
  {
    protocol: 'OPC UA',
    // The largest OPC UA trace by messages (240); open62541_browse_next.pcap is larger in bytes,
    // but 648 of its 752 packets are other traffic around 40 messages.
    trace: ['opcua', 'icsnpp', 'opcua_with-gap_with-handshake.pcap'],
    unit: 'OPC UA messages',
    pass: capturePass((s) => s.ot.opcua.messages),
  },
];
