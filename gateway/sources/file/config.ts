/**
 * Config of the file source: which files (globs), how to cut them into records (lines, or
 * multi-line records by a start pattern), their encoding, and how they are read and followed.
 */
import { z } from 'zod';
import { compileLinearRegex } from '../../../protocols/sigma/regex.ts';

export const FILE_ENCODINGS = ['utf-8', 'utf-16le', 'utf-16be', 'latin1'] as const;
export type FileEncoding = (typeof FILE_ENCODINGS)[number];

const multilineSchema = z
  .strictObject({
    start_pattern: z
      .string()
      .min(1)
      .max(1024)
      .refine((p) => compileLinearRegex(p, '').ok, {
        message: 'not a regular expression RE2 can run (no backreferences or lookaround)',
      })
      .describe(
        'A line matching this regular expression (RE2 syntax) starts a record; the lines that do not match are appended to it (stack traces, wrapped messages).',
      ),
    max_lines: z.number().int().min(1).max(10_000).default(500).describe('Lines in one record at most.'),
    max_bytes: z
      .number()
      .int()
      .min(256)
      .max(1_048_576)
      .default(65_536)
      .describe('Bytes in one record at most; the next line starts a new record (tagged multiline_split).'),
    flush_timeout_ms: z
      .number()
      .int()
      .min(10)
      .max(600_000)
      .default(1000)
      .describe('A record with no further line for this long is handed on.'),
  })
  .describe('Multi-line records by a start pattern.');

export const fileSourceSchema = z.strictObject({
  type: z.literal('file'),
  paths: z
    .array(z.string().min(2).max(4096).startsWith('/', 'an absolute path or glob'))
    .min(1)
    .max(64)
    .describe('Absolute paths or globs (*, ?, [abc], ** for any directories) of the files to follow.'),
  exclude: z
    .array(z.string().min(1).max(4096))
    .max(64)
    .default(['*.gz', '*.bz2', '*.xz', '*.zst', '*.zip'])
    .describe('Globs of files not to read, matched on the base name (or the whole path when it has a /).'),
  format: z
    .enum(['plain', 'syslog'])
    .default('plain')
    .describe(
      'plain: each record is a file.line event; syslog: each record is parsed as a syslog line (RFC 5424, RFC 3164 or the BSD file format) like the syslog source does.',
    ),
  encoding: z.enum(FILE_ENCODINGS).default('utf-8').describe('Text encoding of the files.'),
  start_at: z
    .enum(['beginning', 'end'])
    .default('beginning')
    .describe(
      'Where to start in a file found at the first start (files that appear later are always read from the beginning; a file already read resumes where it stopped).',
    ),
  max_line_bytes: z
    .number()
    .int()
    .min(64)
    .max(1_048_576)
    .default(32_768)
    .describe('A longer line is cut to this many bytes, tagged truncated, and counted (line_truncated).'),
  multiline: multilineSchema.optional(),
  kind: z
    .enum(['telemetry', 'security', 'audit'])
    .default('telemetry')
    .describe(
      'Event kind of plain lines (it picks the queue lane); syslog lines take theirs from the facility.',
    ),
  severity: z.number().int().min(0).max(7).default(6).describe('Severity of plain lines (syslog scale).'),
  poll_interval_ms: z
    .number()
    .int()
    .min(10)
    .max(60_000)
    .default(250)
    .describe('How often the globs are expanded and the files checked for growth, rotation and truncation.'),
  rotate_wait_secs: z
    .number()
    .min(0)
    .max(3600)
    .default(5)
    .describe('A file renamed away from every path is read until it has not grown for this long.'),
  max_batch_lines: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(2000)
    .describe('Records handed to the pipeline (and made durable with their offset) at once.'),
  read_chunk_bytes: z
    .number()
    .int()
    .min(4096)
    .max(16_777_216)
    .default(262_144)
    .describe('Bytes read at once.'),
  max_open_files: z.number().int().min(1).max(10_000).default(256).describe('Files followed at once.'),
});

export type FileSourceConfig = z.output<typeof fileSourceSchema>;
