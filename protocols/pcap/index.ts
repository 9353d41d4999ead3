/**
 * Packet captures for tests and `siem-gateway replay`: read pcap/pcapng files, decode frames to
 * UDP/TCP, and reassemble TCP streams. Pure functions over bytes; the caller reads the file.
 */
export {
  type CaptureError,
  type CaptureErrorCode,
  type CaptureFormat,
  type CaptureItem,
  type CapturePacket,
  type CaptureResult,
  detectCaptureFormat,
  iterateCapture,
  readCapture,
} from './capture.ts';
export {
  type DecodedPacket,
  decodePacket,
  formatIpv4,
  formatIpv6,
  LINKTYPE,
  type PacketDecodeError,
  type PacketDecodeErrorCode,
  type PacketDecodeResult,
  TCP_FLAGS,
} from './decode.ts';
export { reassembleTcp, type TcpSegmentInput, type TcpStream } from './tcp-reassembly.ts';
export {
  createTcpStreamTracker,
  type TcpChunk,
  type TcpFlow,
  type TcpStreamTracker,
  type TcpStreamTrackerOptions,
} from './tcp-stream.ts';
export { FlowSessions, type FlowSessionsOptions } from './flow-sessions.ts';
export { createPcapngStreamReader, type PcapngStreamReader } from './stream.ts';
export { plainBytes } from './types.ts';
