/**
 * The broker's view of one connection (`ConnInfo`), filled as the CONNECT is read and
 * authenticated: what every `mqtt.*` event says about the connection (protocols/mqtt/to-event.ts
 * `MqttConnection`, which builds the events), plus what only the broker keeps (its ACL cache, why
 * authentication failed, the size guard's view of the stream).
 */
import type { MqttConnection } from '../../../protocols/mqtt/to-event.ts';
import type { AclCache, Identity } from './auth.ts';

export interface ConnInfo extends MqttConnection {
  identity?: Identity;
  acl: AclCache;
  /** Why authentication failed, for the refusal event. */
  authFailure?: string;
  /** The parser refused a packet (message), or the size guard did. */
  malformed?: string;
  oversized?: boolean;
  lastChunk?: Uint8Array;
  chunkAtBoundary?: boolean;
}
