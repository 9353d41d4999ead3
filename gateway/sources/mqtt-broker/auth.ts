/**
 * Who a connecting device is and what it may do: user lookup, password check (scrypt, see
 * password.ts), TLS client certificate identity, the anonymous identity when the config allows
 * it, and the publish/subscribe ACL with `%u`/`%c` patterns. Decisions are cached per connection
 * so the hot publish path costs one map lookup.
 */
import { expandAclPattern, filterCovers, matchTopic } from '../../../protocols/mqtt/topic.ts';
import type { MqttBrokerSourceConfig, MqttUser } from './config.ts';
import { DEFAULT_SCRYPT, verifyPassword } from './password.ts';

export interface Identity {
  username?: string;
  anonymous: boolean;
  /** How the identity was proven. */
  method: 'password' | 'client_cert' | 'anonymous';
  publish: string[];
  subscribe: string[];
}

export type AuthResult =
  | { ok: true; identity: Identity }
  | {
      ok: false;
      /** CONNACK return code (MQTT 3.1.1 §3.2.2.3): 4 bad user name or password, 5 not authorised. */
      returnCode: 4 | 5;
      reason:
        'no_credentials' | 'unknown_user' | 'bad_password' | 'password_required' | 'client_cert_mismatch';
    };

/** A hash of the same cost as real ones, so an unknown user name takes as long as a wrong password. */
const DUMMY_HASH = `scrypt$${DEFAULT_SCRYPT.N}$${DEFAULT_SCRYPT.r}$${DEFAULT_SCRYPT.p}$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=`;

export function createAuthenticator(config: MqttBrokerSourceConfig) {
  const users = new Map<string, MqttUser>(config.users.map((u) => [u.username, u]));
  const byCert = new Map<string, MqttUser>();
  for (const u of config.users) if (u.client_cert_cn) byCert.set(u.client_cert_cn, u);
  const identityOf = (u: MqttUser, method: Identity['method']): Identity => ({
    username: u.username,
    anonymous: false,
    method,
    publish: u.publish,
    subscribe: u.subscribe,
  });

  return {
    async authenticate(
      username: string | undefined,
      password: Uint8Array | undefined,
      certCn: string | undefined,
    ): Promise<AuthResult> {
      // A verified client certificate names the user; a CONNECT user name, when given, must agree.
      if (certCn !== undefined) {
        const u = byCert.get(certCn);
        if (u && (username === undefined || username === u.username))
          return { ok: true, identity: identityOf(u, 'client_cert') };
        if (u) return { ok: false, returnCode: 5, reason: 'client_cert_mismatch' };
      }
      if (username === undefined) {
        if (config.allow_anonymous && password === undefined) {
          return {
            ok: true,
            identity: {
              anonymous: true,
              method: 'anonymous',
              publish: config.anonymous.publish,
              subscribe: config.anonymous.subscribe,
            },
          };
        }
        return { ok: false, returnCode: 5, reason: 'no_credentials' };
      }
      const u = users.get(username);
      if (!u?.password_hash) {
        await verifyPassword(password ?? '', DUMMY_HASH);
        return { ok: false, returnCode: 4, reason: u ? 'password_required' : 'unknown_user' };
      }
      if (password === undefined || !(await verifyPassword(password, u.password_hash))) {
        return { ok: false, returnCode: 4, reason: 'bad_password' };
      }
      return { ok: true, identity: identityOf(u, 'password') };
    },
  };
}

export interface AclCache {
  publish: Map<string, boolean>;
  subscribe: Map<string, boolean>;
}

const CACHE_LIMIT = 512;

function remember(cache: Map<string, boolean>, key: string, value: boolean): boolean {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
  return value;
}

/** May this identity publish to `topic`? `$SYS` is the broker's own and never writable ([MQTT-4.7.2-1]). */
export function mayPublish(id: Identity, clientId: string, topic: string, cache: AclCache): boolean {
  const hit = cache.publish.get(topic);
  if (hit !== undefined) return hit;
  if (topic.startsWith('$')) return remember(cache.publish, topic, false);
  const who = { username: id.username, clientId };
  const ok = id.publish.some((p) => {
    const filter = expandAclPattern(p, who);
    return filter !== null && matchTopic(filter, topic);
  });
  return remember(cache.publish, topic, ok);
}

/** May this identity subscribe to `filter`? Every topic the filter can match must be granted. */
export function maySubscribe(id: Identity, clientId: string, filter: string, cache: AclCache): boolean {
  const hit = cache.subscribe.get(filter);
  if (hit !== undefined) return hit;
  const who = { username: id.username, clientId };
  const ok = id.subscribe.some((p) => {
    const allowed = expandAclPattern(p, who);
    return allowed !== null && filterCovers(allowed, filter);
  });
  return remember(cache.subscribe, filter, ok);
}
