/**
 * Reads an ingest request's body with a cap (issue 20): a Content-Length over the cap is
 * refused (413) before a byte is read, and a chunked body is read chunk by chunk and refused as
 * soon as it passes the cap, the rest never read; a gzip body (`Content-Encoding: gzip`, as Fluent
 * Bit and Vector can send) is capped on its decompressed size too. Returns the text (UTF-8).
 */
import { createGunzip } from 'node:zlib';
import { z } from 'zod';
import { apiError } from './http-errors.ts';

export async function readCappedBody(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes)
    throw apiError(413, 'payload_too_large', `body over ${maxBytes} bytes`);
  const encoding = (request.headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip')
    throw apiError(415, 'unsupported_media_type', 'content-encoding must be gzip or identity');
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Buffer[] = [];
  let total = 0;
  const gunzip = encoding === 'gzip' ? createGunzip({ maxOutputLength: maxBytes + 1 }) : undefined;
  let inflated = 0;
  const inflatedChunks: Buffer[] = [];
  gunzip?.on('data', (d: Buffer) => {
    inflated += d.length;
    inflatedChunks.push(d);
  });
  const tooLarge = () => apiError(413, 'payload_too_large', `body over ${maxBytes} bytes`);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) throw tooLarge();
      const chunk = Buffer.from(value.buffer, value.byteOffset, value.length);
      if (gunzip) {
        await new Promise<void>((resolve, reject) => gunzip.write(chunk, (e) => (e ? reject(e) : resolve())));
        if (inflated > maxBytes) throw tooLarge();
      } else chunks.push(chunk);
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    gunzip?.destroy();
    if ((error as { status?: number }).status === 413) throw error;
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
    if (gunzip) throw apiError(400, 'invalid_body', 'body is not valid gzip');
    throw error;
  }
  if (gunzip) {
    await new Promise<void>((resolve, reject) => {
      gunzip.once('error', reject);
      gunzip.end(() => resolve());
    }).catch((error: { code?: string }) => {
      if (error.code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
      throw apiError(400, 'invalid_body', 'body is not valid gzip');
    });
    if (inflated > maxBytes) throw tooLarge();
    return Buffer.concat(inflatedChunks).toString('utf8');
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

/** `http.ingest` (gateway) and `api.ingest` (central): the HTTP ingest endpoint's bounds. */
export const ingestConfigSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe('Serve POST /api/ingest and POST /_bulk (ingest permission).'),
    max_body_bytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(4 * 1024 * 1024)
      .describe('Largest body, after gzip decompression; a larger one is refused with 413 while it is read.'),
    max_events_per_request: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(10_000)
      .describe('Events taken from one body; the rest are reported as problems.'),
    max_concurrent_requests: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(8)
      .describe('Ingest requests being written at once; more are answered 429 with retry-after.'),
    retry_after_secs: z.number().int().min(1).max(3600).default(5).describe('What 429 and 503 answers say.'),
  })
  .prefault({});

export type IngestConfig = z.output<typeof ingestConfigSchema>;
