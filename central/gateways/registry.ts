/**
 * The gateway registry: one-time, expiring enrollment tokens; enrollment, which binds a gateway
 * id to the Ed25519 public key the gateway generated; lookups for link authentication; and
 * revocation. Tokens are stored as SHA-256 digests only. Parameterised SQL only.
 */
import { createHash, randomBytes } from 'node:crypto';
import { isEd25519PublicKey } from '../../protocols/link/auth.ts';
import type { SqlClient } from '../store/sql-client.ts';

/** Why an enrollment was refused; `reserved_id` (central's own id) is decided by the API, not here. */
export type EnrollFailure =
  | 'invalid_token'
  | 'expired_token'
  | 'used_token'
  | 'gateway_mismatch'
  | 'gateway_exists'
  | 'bad_key'
  | 'reserved_id';

export type GatewayRecord = {
  id: string;
  publicKey: string;
  status: 'active' | 'revoked';
  enrolledAt: Date;
  revokedAt: Date | null;
  lastSeenAt: Date | null;
  clockOffsetMs: number | null;
};

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

type GatewayRow = {
  id: string;
  public_key: string;
  status: 'active' | 'revoked';
  enrolled_at: Date;
  revoked_at: Date | null;
  last_seen_at: Date | null;
  clock_offset_ms: string | number | null;
};

function toRecord(row: GatewayRow): GatewayRecord {
  return {
    id: row.id,
    publicKey: row.public_key,
    status: row.status,
    enrolledAt: new Date(row.enrolled_at),
    revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
    lastSeenAt: row.last_seen_at ? new Date(row.last_seen_at) : null,
    clockOffsetMs: row.clock_offset_ms === null ? null : Number(row.clock_offset_ms),
  };
}

export function createGatewayRegistry(sql: SqlClient) {
  return {
    /** A new one-time token, valid for `ttlSecs`; returns the token itself (shown once). */
    async createEnrollmentToken(options: {
      gatewayId?: string;
      ttlSecs: number;
      now: Date;
      createdBy?: string;
    }) {
      const token = `enr_${randomBytes(24).toString('base64url')}`;
      const expiresAt = new Date(options.now.getTime() + options.ttlSecs * 1000);
      await sql.query(
        'INSERT INTO enrollment_tokens (token_sha256, gateway_id, created_at, expires_at, created_by) VALUES ($1, $2, $3, $4, $5)',
        [digest(token), options.gatewayId ?? null, options.now, expiresAt, options.createdBy ?? null],
      );
      return { token, expiresAt };
    },

    /** Exchanges a token for a registered gateway; the token is spent in the same transaction. */
    async enroll(options: {
      token: string;
      gatewayId: string;
      publicKey: string;
      now: Date;
    }): Promise<{ ok: true } | { ok: false; reason: EnrollFailure }> {
      if (!isEd25519PublicKey(options.publicKey)) return { ok: false, reason: 'bad_key' };
      return sql.transaction(async (tx) => {
        const { rows } = await tx.query<{
          gateway_id: string | null;
          expires_at: Date;
          used_at: Date | null;
        }>(
          'SELECT gateway_id, expires_at, used_at FROM enrollment_tokens WHERE token_sha256 = $1 FOR UPDATE',
          [digest(options.token)],
        );
        const token = rows[0];
        if (!token) return { ok: false, reason: 'invalid_token' } as const;
        if (token.used_at) return { ok: false, reason: 'used_token' } as const;
        if (new Date(token.expires_at).getTime() <= options.now.getTime()) {
          return { ok: false, reason: 'expired_token' } as const;
        }
        if (token.gateway_id && token.gateway_id !== options.gatewayId) {
          return { ok: false, reason: 'gateway_mismatch' } as const;
        }
        const existing = await tx.query('SELECT 1 FROM gateways WHERE id = $1', [options.gatewayId]);
        // A token bound to this id may re-enroll it (new key, reinstated); an open token may not take over an id.
        if (existing.rows.length > 0 && !token.gateway_id)
          return { ok: false, reason: 'gateway_exists' } as const;
        await tx.query(
          `INSERT INTO gateways (id, public_key, status, enrolled_at) VALUES ($1, $2, 'active', $3)
           ON CONFLICT (id) DO UPDATE SET public_key = EXCLUDED.public_key, status = 'active',
             enrolled_at = EXCLUDED.enrolled_at, revoked_at = NULL`,
          [options.gatewayId, options.publicKey, options.now],
        );
        await tx.query('UPDATE enrollment_tokens SET used_at = $2, used_by = $3 WHERE token_sha256 = $1', [
          digest(options.token),
          options.now,
          options.gatewayId,
        ]);
        return { ok: true } as const;
      });
    },

    async get(id: string): Promise<GatewayRecord | undefined> {
      const { rows } = await sql.query<GatewayRow>('SELECT * FROM gateways WHERE id = $1', [id]);
      return rows[0] ? toRecord(rows[0]) : undefined;
    },

    async list(): Promise<GatewayRecord[]> {
      const { rows } = await sql.query<GatewayRow>('SELECT * FROM gateways ORDER BY id');
      return rows.map(toRecord);
    },

    /** Marks a gateway revoked; returns false when there is no such gateway. */
    async revoke(id: string, now: Date): Promise<boolean> {
      const { rowCount } = await sql.query(
        "UPDATE gateways SET status = 'revoked', revoked_at = $2 WHERE id = $1",
        [id, now],
      );
      return rowCount > 0;
    },

    async touch(id: string, now: Date, clockOffsetMs: number | undefined): Promise<void> {
      await sql.query(
        'UPDATE gateways SET last_seen_at = $2, clock_offset_ms = COALESCE($3, clock_offset_ms) WHERE id = $1',
        [id, now, clockOffsetMs ?? null],
      );
    },
  };
}

export type GatewayRegistry = ReturnType<typeof createGatewayRegistry>;
