/**
 * MQTT 5 for the client collector: the properties of a PUBLISH (MQTT 5 §3.3.2.3) as event fields,
 * bounded (a broker relays whatever a publisher put there), the subscription filters with shared
 * subscriptions (§4.8.2), and the names of reason codes (§2.4) for SUBACK and DISCONNECT.
 */
import type { IPublishPacket } from 'mqtt';
import { ReasonCodes } from 'mqtt';
import type { MqttClientSourceConfig } from './config.ts';

/** At most this many user properties are kept; the rest are counted in `user_properties_dropped`. */
export const MAX_USER_PROPERTIES = 32;
/** Each user property name and value, the content type and the response topic are cut to this. */
export const MAX_PROPERTY_CHARS = 256;
const MAX_CORRELATION_BYTES = 64;

const cut = (s: string) => (s.length > MAX_PROPERTY_CHARS ? s.slice(0, MAX_PROPERTY_CHARS) : s);

/** The fields an MQTT 5 PUBLISH adds to its event; empty for MQTT 3.1.1 (no properties). */
export function propertyFields(properties: IPublishPacket['properties']): Record<string, unknown> {
  if (!properties) return {};
  const out: Record<string, unknown> = {};
  const user = properties.userProperties;
  if (user && typeof user === 'object') {
    const entries = Object.entries(user);
    const kept: Array<[string, string | string[]]> = entries
      .slice(0, MAX_USER_PROPERTIES)
      .map(([k, v]) => [
        cut(k),
        Array.isArray(v) ? v.slice(0, MAX_USER_PROPERTIES).map(cut) : cut(String(v)),
      ]);
    // fromEntries defines own properties: a name such as __proto__ stays a plain key.
    if (kept.length > 0) out.user_properties = Object.fromEntries(kept);
    if (entries.length > MAX_USER_PROPERTIES)
      out.user_properties_dropped = entries.length - MAX_USER_PROPERTIES;
  }
  // §3.3.2.3.3: the broker sends the remaining lifetime of the message.
  if (typeof properties.messageExpiryInterval === 'number')
    out.message_expiry_secs = properties.messageExpiryInterval;
  if (typeof properties.contentType === 'string') out.content_type = cut(properties.contentType);
  if (typeof properties.payloadFormatIndicator === 'boolean')
    out.payload_format = properties.payloadFormatIndicator ? 'utf8' : 'bytes';
  if (typeof properties.responseTopic === 'string') out.response_topic = cut(properties.responseTopic);
  if (Buffer.isBuffer(properties.correlationData))
    out.correlation_data_hex = properties.correlationData.subarray(0, MAX_CORRELATION_BYTES).toString('hex');
  return out;
}

/** The filters to subscribe to: the configured topics (shared when `shared_group` is set), then $SYS. */
export function subscriptionFilters(
  config: Pick<MqttClientSourceConfig, 'topics' | 'shared_group' | 'sys_topics'>,
): string[] {
  const group = config.shared_group;
  const topics = group ? config.topics.map((t) => `$share/${group}/${t}`) : [...config.topics];
  // $SYS is the broker's own status: every collector wants all of it, so it is never shared.
  return config.sys_topics ? [...topics, '$SYS/#'] : topics;
}

/** A reason code's name in snake case (MQTT 5 §2.4), or its number when unknown. */
export function reasonName(code: number): string {
  const name = (ReasonCodes as Record<number, string | undefined>)[code];
  if (code === 0) return 'success';
  return name
    ? name.toLowerCase().replace(/[^a-z0-9]+/g, '_')
    : `reason_0x${code.toString(16).padStart(2, '0')}`;
}
