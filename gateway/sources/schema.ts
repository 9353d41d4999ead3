/**
 * The union of every source's config, discriminated by `type:`. A new protocol adds its
 * schema here and its factory in index.ts; nothing else in the gateway changes.
 */
import { z } from 'zod';
import { syslogSourceSchema } from './syslog/config.ts';

export const sourceSchema = z.discriminatedUnion('type', [syslogSourceSchema]);

export type SourceConfig = z.output<typeof sourceSchema>;
