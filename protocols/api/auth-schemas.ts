/**
 * The access-control API's answers (protocols/api/auth.ts) as zod schemas, for the OpenAPI
 * documents of both servers (server-shared/openapi). Each is checked against its TypeScript type
 * (`sameShape`), so the document and the type the routes `satisfies` cannot drift.
 */
import { z } from 'zod';
import type * as Auth from './auth.ts';
import { sameShape } from './schema-check.ts';

const time = z.string().describe('ISO 8601, UTC');

export const permissionSchema = z
  .enum(['read', 'alerts', 'rules', 'admin', 'ingest', 'reports', 'playbooks'])
  .meta({ id: 'Permission' });

export const sessionSchema = z
  .object({
    user: z.object({ username: z.string(), role: z.string(), totp_enabled: z.boolean() }),
    permissions: z.array(permissionSchema),
    csrf_token: z.string().nullable(),
    totp_enrollment_required: z.boolean(),
  })
  .meta({ id: 'Session' });

export const configTokenMeSchema = z
  .object({
    user: z.object({ username: z.string(), role: z.null() }),
    permissions: z.array(permissionSchema),
  })
  .meta({ id: 'ConfigTokenMe' });

export const totpSetupSchema = z
  .object({ secret: z.string(), otpauth_url: z.string() })
  .meta({ id: 'TotpSetup' });
export const totpStateSchema = z.object({ totp_enabled: z.boolean() }).meta({ id: 'TotpState' });

const apiTokenShape = {
  id: z.string(),
  name: z.string(),
  username: z.string(),
  scopes: z.array(permissionSchema),
  created_at: time,
  expires_at: time.nullable(),
  last_used_at: time.nullable(),
};
export const apiTokenSchema = z.object(apiTokenShape).meta({ id: 'ApiToken' });
export const tokensResponseSchema = z
  .object({ tokens: z.array(apiTokenSchema) })
  .meta({ id: 'TokensResponse' });
export const createdApiTokenSchema = z
  .object({ ...apiTokenShape, token: z.string() })
  .meta({ id: 'CreatedApiToken' });

export const userSchema = z
  .object({
    username: z.string(),
    role: z.string(),
    totp_enabled: z.boolean(),
    require_totp: z.boolean(),
    disabled: z.boolean(),
    created_at: time,
    updated_at: time,
  })
  .meta({ id: 'User' });
export const usersResponseSchema = z.object({ users: z.array(userSchema) }).meta({ id: 'UsersResponse' });

export const auditEntrySchema = z
  .object({
    id: z.number().int(),
    ts: time,
    actor: z.string(),
    action: z.string(),
    target: z.string().nullable(),
    address: z.string().nullable(),
    outcome: z.string(),
    detail: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'AuditEntry' });
export const auditPageSchema = z
  .object({ entries: z.array(auditEntrySchema), next_before: z.number().int().nullable() })
  .meta({ id: 'AuditPage' });

sameShape<z.output<typeof permissionSchema>, Auth.Permission>(true);
sameShape<z.output<typeof sessionSchema>, Auth.Session>(true);
sameShape<z.output<typeof configTokenMeSchema>, Auth.ConfigTokenMe>(true);
sameShape<z.output<typeof totpSetupSchema>, Auth.TotpSetup>(true);
sameShape<z.output<typeof totpStateSchema>, Auth.TotpState>(true);
sameShape<z.output<typeof apiTokenSchema>, Auth.ApiToken>(true);
sameShape<z.output<typeof tokensResponseSchema>, Auth.TokensResponse>(true);
sameShape<z.output<typeof createdApiTokenSchema>, Auth.CreatedApiToken>(true);
sameShape<z.output<typeof userSchema>, Auth.User>(true);
sameShape<z.output<typeof usersResponseSchema>, Auth.UsersResponse>(true);
sameShape<z.output<typeof auditEntrySchema>, Auth.AuditEntry>(true);
sameShape<z.output<typeof auditPageSchema>, Auth.AuditPage>(true);
