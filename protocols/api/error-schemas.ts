/**
 * The error shape of both servers (protocols/api/errors.ts) as a zod schema, for the OpenAPI
 * documents (server-shared/openapi). Checked against `ApiError` by type so they cannot drift.
 */
import { z } from 'zod';
import type { ApiError } from './errors.ts';
import { sameShape } from './schema-check.ts';

export const API_ERROR_CODES = [
  'not_found',
  'bad_request',
  'invalid_query',
  'invalid_body',
  'invalid_path',
  'payload_too_large',
  'unsupported_media_type',
  'unauthenticated',
  'invalid_token',
  'invalid_credentials',
  'totp_required',
  'forbidden',
  'csrf',
  'wrong_secret',
  'conflict',
  'rule_refused',
  'enrollment_refused',
  'too_many_requests',
  'unavailable',
  'internal',
] as const;

export const apiErrorSchema = z
  .object({
    error: z.string().describe('A sentence for a person; may change between versions.'),
    code: z.enum(API_ERROR_CODES).describe('For programs.'),
    field: z.string().optional().describe('The query parameter, body path or path parameter at fault.'),
    totp_required: z.boolean().optional(),
    problems: z
      .array(
        z.object({
          rule: z.string().nullable(),
          field: z.string().nullable(),
          why: z.string(),
          code: z.string(),
        }),
      )
      .optional(),
    totp_enrollment_required: z.boolean().optional(),
  })
  .meta({ id: 'ApiError' });

sameShape<z.output<typeof apiErrorSchema>, ApiError>(true);
