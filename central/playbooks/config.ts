/**
 * The `playbooks:` block of central's config: how long central keeps playbook runs (with their
 * actions) and the playbook audit trail. The lifecycle job (central/lifecycle.ts) prunes them hourly
 * beside the partition and alert retention (retention.ts says which rows may go).
 */
import { z } from 'zod';

const days = (fallback: number, what: string) =>
  z.number().int().min(0).max(36_600).default(fallback).describe(what);

export const playbooksConfigSchema = z
  .strictObject({
    retention: z
      .strictObject({
        runs_days: days(
          90,
          'Delete finished playbook runs (done, failed, rejected; with their actions) unchanged for this many days (0 = keep forever). A run with an action still waiting for its gateway or still undoable is kept.',
        ),
        audit_days: days(
          365,
          'Delete playbook audit rows older than this many days (0 = keep forever), except those of a run still kept.',
        ),
      })
      .prefault({})
      .describe('How long playbook runs and their audit trail are kept.'),
  })
  .prefault({})
  .describe('Response playbooks (docs/central.md#response-playbooks).');

export type PlaybooksConfig = z.output<typeof playbooksConfigSchema>;
