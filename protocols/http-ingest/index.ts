/**
 * HTTP ingest formats: body parsing (parse.ts) and items to Events (to-event.ts).
 */
export { type IngestItem, type IngestProblem, type ParsedBody, parseIngestBody } from './parse.ts';
export { type IngestContext, ingestItemToEvent } from './to-event.ts';
