/**
 * The OpenAPI descriptions of the access-control routes both servers mount under /api
 * (server-shared/web-auth/routes-*.ts): their bodies and queries are the schemas those routes
 * parse with, their answers the schemas of protocols/api/auth-schemas.ts.
 */
import { z } from 'zod';
import * as A from '../../protocols/api/auth-schemas.ts';
import { auditQuery } from '../web-auth/routes-audit.ts';
import { loginSchema, passwordChange } from '../web-auth/routes-session.ts';
import { tokenCreate } from '../web-auth/routes-tokens.ts';
import { codeSchema } from '../web-auth/routes-totp.ts';
import { userCreate, userPatch } from '../web-auth/routes-users.ts';
import { answer, route, type RouteDocs } from './index.ts';

export const okSchema = z.object({ ok: z.literal(true) }).meta({ id: 'Ok' });

/** 201 with what was made. */
const created = (schema: z.ZodType) => answer('Created', schema, 201);
/** 204, nothing in the body. */
const noContent = (description: string) => answer(description, undefined, 204);

export const AUTH_ROUTE_DOCS: RouteDocs = {
  'POST /api/auth/login': route(
    'Log in: sets the session cookie and answers the session with its CSRF token',
    answer('Logged in', A.sessionSchema),
    { body: loginSchema },
  ),
  'POST /api/auth/logout': route('Log out (ends the session)', answer('Logged out', okSchema)),
  'GET /api/auth/me': route(
    'Who is calling: the user and permissions (a config token has no user record)',
    answer('The caller', z.union([A.sessionSchema, A.configTokenMeSchema])),
  ),
  'POST /api/auth/password': route(
    "Change one's own password (other sessions end)",
    answer('Changed', okSchema),
    { body: passwordChange },
  ),
  'POST /api/auth/totp/setup': route(
    'Start TOTP enrolment: a new secret, active once /api/auth/totp/enable takes a code',
    answer('The secret', A.totpSetupSchema),
  ),
  'POST /api/auth/totp/enable': route(
    'Enable TOTP with a code of the new secret',
    answer('Enabled', A.totpStateSchema),
    { body: codeSchema },
  ),
  'POST /api/auth/totp/disable': route(
    'Disable TOTP with a current code',
    answer('Disabled', A.totpStateSchema),
    { body: codeSchema },
  ),
  'GET /api/auth/tokens': route(
    "One's own API tokens (an admin sees all); never their values",
    answer('The tokens', A.tokensResponseSchema),
  ),
  'POST /api/auth/tokens': route(
    'Create an API token with scopes within the role; the only answer holding its value',
    created(A.createdApiTokenSchema),
    { body: tokenCreate },
  ),
  'DELETE /api/auth/tokens/:id': route('Revoke an API token', noContent('Revoked')),
  'GET /api/users': route('The users', answer('The users', A.usersResponseSchema)),
  'POST /api/users': route('Create a user', created(A.userSchema), { body: userCreate }),
  'PATCH /api/users/:username': route(
    "Change a user's role, password, TOTP requirement or disable them",
    answer('The user', A.userSchema),
    { body: userPatch },
  ),
  'DELETE /api/users/:username': route('Delete a user (never the last admin)', noContent('Deleted')),
  'GET /api/audit': route('The audit log, newest first', answer('A page of entries', A.auditPageSchema), {
    query: auditQuery,
  }),
};
