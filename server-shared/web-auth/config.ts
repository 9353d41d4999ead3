/**
 * The `auth` config block both servers take (central: `auth`, gateway: `http.auth`): sessions'
 * idle and absolute lifetime, whether TOTP is required of everyone, and where the first admin's
 * password comes from (SPEC.md §2). Secrets never go in the file: the password is read from a file.
 */
import { z } from 'zod';

export const webAuthConfigSchema = z
  .strictObject({
    session_idle_secs: z
      .number()
      .int()
      .positive()
      .max(7 * 86_400)
      .default(3600)
      .describe('A session unused this long is over.'),
    session_max_secs: z
      .number()
      .int()
      .positive()
      .max(30 * 86_400)
      .default(43_200)
      .describe('A session is over this long after login, used or not.'),
    max_sessions_per_user: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(20)
      .describe("Sessions one user may hold; a login beyond this ends that user's oldest sessions."),
    session_prune_interval_secs: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(600)
      .describe('How often expired sessions are deleted from storage (also at every login).'),
    require_totp: z
      .boolean()
      .default(false)
      .describe('Every user must enrol a TOTP second factor (RFC 6238) before using the API.'),
    first_admin: z
      .strictObject({
        username: z
          .string()
          .regex(/^[A-Za-z0-9._@-]{1,64}$/)
          .default('admin')
          .describe('The admin created at first start when there are no users.'),
        password_file: z
          .string()
          .min(1)
          .optional()
          .describe('File holding its password (mode 0600); without it a random one is printed once.'),
      })
      .prefault({})
      .describe('The first admin, created only when there are no users yet.'),
  })
  .prefault({});

export type WebAuthConfig = z.output<typeof webAuthConfigSchema>;
