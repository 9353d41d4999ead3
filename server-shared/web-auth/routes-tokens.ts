/**
 * Personal API tokens (SPEC.md §3): list (one's own; an admin sees all), create from a login
 * session with scopes no wider than one's role (the token is shown once and stored as SHA-256),
 * and delete (one's own; an admin any).
 */
import { randomBytes } from 'node:crypto';
import type { Hono } from 'hono';
import { z } from 'zod';
import type * as Api from '../../protocols/api/auth.ts';
import { refuse } from '../http-errors.ts';
import { requireLogin } from './permissions.ts';
import { type AuthRoutesContext, body } from './routes-context.ts';
import { newApiToken, publicToken, sha256Hex } from './session.ts';
import { PERMISSIONS } from './types.ts';

export const tokenCreate = z.strictObject({
  name: z.string().min(1).max(64),
  scopes: z.array(z.enum(PERMISSIONS)).min(1),
  expires_in_secs: z
    .number()
    .int()
    .positive()
    .max(3 * 366 * 86_400)
    .optional(),
});

export function routeTokens(api: Hono, ctx: AuthRoutesContext): void {
  const { store, now, audit } = ctx;

  api.get('/auth/tokens', requireLogin(), async (c) => {
    const identity = c.get('auth')!;
    const all = identity.permissions.has('admin');
    const tokens = await store.listTokens(all ? undefined : (identity.username ?? '\0'));
    return c.json({ tokens: tokens.map(publicToken) } satisfies Api.TokensResponse);
  });
  api.post('/auth/tokens', requireLogin(), async (c) => {
    const identity = c.get('auth')!;
    if (!identity.username || identity.kind !== 'session') {
      return refuse(c, 400, 'bad_request', 'API tokens are created from a login session');
    }
    const input = await body(c, tokenCreate);
    const beyond = input.scopes.filter((s) => !identity.permissions.has(s));
    if (beyond.length > 0)
      return refuse(c, 403, 'forbidden', `your role does not allow scope ${beyond.join(', ')}`, {
        field: 'scope',
      });
    const token = newApiToken();
    const created = now();
    const record = {
      id: randomBytes(8).toString('hex'),
      token_sha256: sha256Hex(token),
      name: input.name,
      username: identity.username,
      scopes: [...new Set(input.scopes)],
      created_at: created,
      expires_at: input.expires_in_secs ? new Date(created.getTime() + input.expires_in_secs * 1000) : null,
      last_used_at: null,
    };
    await store.createToken(record);
    await audit(c, {
      actor: identity.actor,
      action: 'token.create',
      target: `${record.id} ${record.name}`,
      outcome: 'ok',
      detail: { scopes: record.scopes },
    });
    // The only time the token is shown: it is stored as SHA-256.
    return c.json({ ...publicToken(record), token } satisfies Api.CreatedApiToken, 201);
  });
  api.delete('/auth/tokens/:id', requireLogin(), async (c) => {
    const identity = c.get('auth')!;
    const id = c.req.param('id');
    const owner = identity.permissions.has('admin') ? undefined : (identity.username ?? '\0');
    const deleted = await store.deleteToken(id, owner);
    await audit(c, {
      actor: identity.actor,
      action: 'token.delete',
      target: id,
      outcome: deleted ? 'ok' : 'not found',
    });
    return deleted ? c.body(null, 204) : refuse(c, 404, 'not_found', 'no such token');
  });
}
