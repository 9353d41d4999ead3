/**
 * TOTP enrolment of one's own account (SPEC.md §2): `POST /auth/totp/setup` hands out a new
 * secret (from a login session only), `/auth/totp/enable` and `/auth/totp/disable` take a current
 * code, each code usable once. Disabling is refused where TOTP is required.
 */
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type * as Api from '../../protocols/api/auth.ts';
import { refuse } from '../http-errors.ts';
import { requireLogin } from './permissions.ts';
import { type AuthRoutesContext, body } from './routes-context.ts';
import { newTotpSecret, totpStep, totpUrl } from './totp.ts';

export const codeSchema = z.strictObject({ code: z.string().min(1).max(16) });

export function routeTotp(api: Hono, ctx: AuthRoutesContext): void {
  const { store, policy, now, audit } = ctx;

  api.post('/auth/totp/setup', requireLogin(), async (c) => {
    const identity = c.get('auth')!;
    const user = identity.username ? await store.getUser(identity.username) : undefined;
    if (!user || identity.kind !== 'session')
      return refuse(c, 400, 'bad_request', 'TOTP is enrolled from a login session');
    if (user.totp_enabled) return refuse(c, 409, 'conflict', 'TOTP is already enabled; disable it first');
    const secret = newTotpSecret();
    await store.updateUser(user.username, { totp_secret: secret, updated_at: now() });
    await audit(c, { actor: user.username, action: 'auth.totp_setup', target: user.username, outcome: 'ok' });
    return c.json({
      secret,
      otpauth_url: totpUrl(secret, ctx.issuer, user.username),
    } satisfies Api.TotpSetup);
  });

  const totpChange = (enable: boolean) => async (c: Context) => {
    const identity = c.get('auth')!;
    const { code } = await body(c, codeSchema);
    const user = identity.username ? await store.getUser(identity.username) : undefined;
    const action = enable ? 'auth.totp_enable' : 'auth.totp_disable';
    if (!user || !user.totp_secret || user.totp_enabled !== !enable) {
      return refuse(c, 409, 'conflict', enable ? 'call /api/auth/totp/setup first' : 'TOTP is not enabled');
    }
    const step = totpStep(user.totp_secret, code.trim(), now().getTime());
    if (step === null || !(await store.useTotpStep(user.username, step))) {
      await audit(c, { actor: user.username, action, target: user.username, outcome: 'denied' });
      return refuse(c, 403, 'wrong_secret', 'wrong TOTP code', { field: 'code' });
    }
    if (!enable && (policy.requireTotp || user.require_totp)) {
      return refuse(c, 403, 'forbidden', 'TOTP is required for this user');
    }
    await store.updateUser(user.username, {
      totp_enabled: enable,
      ...(enable ? {} : { totp_secret: null }),
      updated_at: now(),
    });
    await audit(c, { actor: user.username, action, target: user.username, outcome: 'ok' });
    return c.json({ totp_enabled: enable } satisfies Api.TotpState);
  };
  api.post('/auth/totp/enable', requireLogin(), totpChange(true));
  api.post('/auth/totp/disable', requireLogin(), totpChange(false));
}
