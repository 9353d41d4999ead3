/**
 * User administration (admin only, SPEC.md §2): list, create, change (role, password, required
 * TOTP, disabled, a reset of a lost second factor) and delete users. A change of password, role
 * or disabled ends the user's sessions; an admin cannot demote, disable or delete themselves.
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import type * as Api from '../../protocols/api/auth.ts';
import { refuse } from '../http-errors.ts';
import { hashPassword, newUserRecord } from './password.ts';
import { requirePermission } from './permissions.ts';
import { type AuthRoutesContext, body, passwordSchema, usernameSchema } from './routes-context.ts';
import { publicUser } from './session.ts';
import { ROLES } from './types.ts';

export const userCreate = z.strictObject({
  username: usernameSchema,
  password: passwordSchema,
  role: z.enum(ROLES).default('viewer'),
  require_totp: z.boolean().default(false),
});
export const userPatch = z.strictObject({
  role: z.enum(ROLES).optional(),
  password: passwordSchema.optional(),
  require_totp: z.boolean().optional(),
  disabled: z.boolean().optional(),
  /** Clears a lost second factor (the user enrols again). */
  reset_totp: z.literal(true).optional(),
});

export function routeUsers(api: Hono, ctx: AuthRoutesContext): void {
  const { store, now, audit, actor } = ctx;

  api.get('/users', requirePermission('admin'), async (c) =>
    c.json({ users: (await store.listUsers()).map(publicUser) } satisfies Api.UsersResponse),
  );
  api.post('/users', requirePermission('admin'), async (c) => {
    const input = await body(c, userCreate);
    const t = now();
    const created = await store.createUser(
      await newUserRecord(input.username, input.role, input.password, t, input.require_totp),
    );
    await audit(c, {
      actor: actor(c),
      action: 'user.create',
      target: input.username,
      outcome: created ? 'ok' : 'exists',
      detail: { role: input.role },
    });
    if (!created) return refuse(c, 409, 'conflict', `user ${input.username} exists`, { field: 'username' });
    return c.json(publicUser((await store.getUser(input.username))!) satisfies Api.User, 201);
  });
  api.patch('/users/:username', requirePermission('admin'), async (c) => {
    const username = c.req.param('username');
    const input = await body(c, userPatch);
    const user = await store.getUser(username);
    if (!user) return refuse(c, 404, 'not_found', 'no such user');
    const self = c.get('auth')?.username === username;
    if (self && ((input.role && input.role !== 'admin') || input.disabled)) {
      return refuse(c, 409, 'conflict', 'an admin cannot demote or disable themselves');
    }
    const updated = await store.updateUser(username, {
      ...(input.role && { role: input.role }),
      ...(input.password && { password_hash: await hashPassword(input.password) }),
      ...(input.require_totp !== undefined && { require_totp: input.require_totp }),
      ...(input.disabled !== undefined && { disabled: input.disabled }),
      ...(input.reset_totp && { totp_enabled: false, totp_secret: null }),
      updated_at: now(),
    });
    if (input.password || input.disabled || input.role) await store.deleteUserSessions(username);
    await audit(c, {
      actor: actor(c),
      action: 'user.update',
      target: username,
      outcome: 'ok',
      // Which fields changed, never the new password.
      detail: { changed: Object.keys(input), ...(input.role && { role: input.role }) },
    });
    return c.json(publicUser(updated!) satisfies Api.User);
  });
  api.delete('/users/:username', requirePermission('admin'), async (c) => {
    const username = c.req.param('username');
    if (c.get('auth')?.username === username)
      return refuse(c, 409, 'conflict', 'an admin cannot delete themselves');
    const deleted = await store.deleteUser(username);
    await audit(c, {
      actor: actor(c),
      action: 'user.delete',
      target: username,
      outcome: deleted ? 'ok' : 'not found',
    });
    return deleted ? c.body(null, 204) : refuse(c, 404, 'not_found', 'no such user');
  });
}
