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
import type { RouteDocs } from './index.ts';

export const okSchema = z.object({ ok: z.literal(true) }).meta({ id: 'Ok' });

export const AUTH_ROUTE_DOCS: RouteDocs = {
  'POST /api/auth/login': {
    summary: 'Log in: sets the session cookie and answers the session with its CSRF token',
    body: loginSchema,
    responses: { 200: { description: 'Logged in', schema: A.sessionSchema } },
  },
  'POST /api/auth/logout': {
    summary: 'Log out (ends the session)',
    responses: { 200: { description: 'Logged out', schema: okSchema } },
  },
  'GET /api/auth/me': {
    summary: 'Who is calling: the user and permissions (a config token has no user record)',
    responses: {
      200: { description: 'The caller', schema: z.union([A.sessionSchema, A.configTokenMeSchema]) },
    },
  },
  'POST /api/auth/password': {
    summary: "Change one's own password (other sessions end)",
    body: passwordChange,
    responses: { 200: { description: 'Changed', schema: okSchema } },
  },
  'POST /api/auth/totp/setup': {
    summary: 'Start TOTP enrolment: a new secret, active once /api/auth/totp/enable takes a code',
    responses: { 200: { description: 'The secret', schema: A.totpSetupSchema } },
  },
  'POST /api/auth/totp/enable': {
    summary: 'Enable TOTP with a code of the new secret',
    body: codeSchema,
    responses: { 200: { description: 'Enabled', schema: A.totpStateSchema } },
  },
  'POST /api/auth/totp/disable': {
    summary: 'Disable TOTP with a current code',
    body: codeSchema,
    responses: { 200: { description: 'Disabled', schema: A.totpStateSchema } },
  },
  'GET /api/auth/tokens': {
    summary: "One's own API tokens (an admin sees all); never their values",
    responses: { 200: { description: 'The tokens', schema: A.tokensResponseSchema } },
  },
  'POST /api/auth/tokens': {
    summary: 'Create an API token with scopes within the role; the only answer holding its value',
    body: tokenCreate,
    responses: { 201: { description: 'Created', schema: A.createdApiTokenSchema } },
  },
  'DELETE /api/auth/tokens/:id': {
    summary: 'Revoke an API token',
    responses: { 204: { description: 'Revoked' } },
  },
  'GET /api/users': {
    summary: 'The users',
    responses: { 200: { description: 'The users', schema: A.usersResponseSchema } },
  },
  'POST /api/users': {
    summary: 'Create a user',
    body: userCreate,
    responses: { 201: { description: 'Created', schema: A.userSchema } },
  },
  'PATCH /api/users/:username': {
    summary: "Change a user's role, password, TOTP requirement or disable them",
    body: userPatch,
    responses: { 200: { description: 'The user', schema: A.userSchema } },
  },
  'DELETE /api/users/:username': {
    summary: 'Delete a user (never the last admin)',
    responses: { 204: { description: 'Deleted' } },
  },
  'GET /api/audit': {
    summary: 'The audit log, newest first',
    query: auditQuery,
    responses: { 200: { description: 'A page of entries', schema: A.auditPageSchema } },
  },
};
