/**
 * The CSV form of partition archives (RFC 4180 with PostgreSQL's NULL convention, as COPY … CSV
 * writes it): every non-NULL value is quoted with `"` doubled inside, a NULL is an empty unquoted
 * field, so NULL and the empty string stay apart. Values may hold newlines (inside quotes); the
 * parser is streaming, records may span chunks, and a malformed file is an error, never a guess.
 */

export function csvRecord(values: readonly (string | null)[]): string {
  return `${values.map((v) => (v === null ? '' : `"${v.replaceAll('"', '""')}"`)).join(',')}\n`;
}

/** Records of a CSV text stream; `null` for an empty unquoted field. */
export async function* parseCsv(chunks: AsyncIterable<string>): AsyncGenerator<(string | null)[]> {
  let record: (string | null)[] = [];
  let field = '';
  let quoted = false; // the current field started with a quote
  let inQuotes = false; // inside the quotes of the current field
  let pendingQuote = false; // saw a quote inside quotes: either "" or the closing quote
  let line = 1;
  const endField = () => {
    record.push(quoted ? field : field === '' ? null : field);
    field = '';
    quoted = false;
  };
  for await (const chunk of chunks) {
    for (const ch of chunk) {
      if (pendingQuote) {
        pendingQuote = false;
        if (ch === '"') {
          field += '"';
          continue;
        }
        inQuotes = false;
      }
      if (inQuotes) {
        if (ch === '"') pendingQuote = true;
        else field += ch;
        continue;
      }
      if (ch === '"') {
        if (quoted || field !== '') throw new Error(`CSV line ${line}: stray quote`);
        quoted = true;
        inQuotes = true;
      } else if (ch === ',') {
        endField();
      } else if (ch === '\n') {
        endField();
        yield record;
        record = [];
        line += 1;
      } else if (ch === '\r') {
        // Tolerated before \n (CRLF files); the writer never emits it outside quotes.
      } else {
        if (quoted) throw new Error(`CSV line ${line}: text after a closing quote`);
        field += ch;
      }
    }
  }
  if (inQuotes && !pendingQuote) throw new Error(`CSV line ${line}: unterminated quoted field`);
  if (pendingQuote || field !== '' || quoted || record.length > 0) {
    endField();
    yield record;
  }
}
