/**
 * Native input comes two ways: one alert object per line, or one `{"alerts":[…]}` document — the body of
 * DESIGN §4, possibly pretty-printed over many lines. A document is recognised from its first bytes, read
 * whole (it is one JSON value; the cap keeps a mistaken multi-gigabyte file from exhausting memory) and turned
 * into one alert per line, so the rest of `push` treats both the same.
 */

/** Documents larger than this are refused: send one alert per line instead, which streams. */
export const MAX_NATIVE_DOCUMENT_BYTES = 256 * 1024 * 1024;

const DOCUMENT_START = /^\s*\{\s*"alerts"\s*:/;

export class NativeDocumentError extends Error {}

/** Whether the first bytes of an input look like a `{"alerts":[…]}` document. */
export function looksLikeNativeDocument(head: string): boolean {
  return DOCUMENT_START.test(head.replace(/^\uFEFF/, ''));
}

/**
 * Passes chunks through, unless the input is a native document: then yields its alerts as NDJSON (one chunk).
 * `onDocument` is told when that happens, before the first chunk is yielded.
 */
export async function* expandNativeDocument(
  chunks: AsyncIterable<Buffer | string>,
  onDocument: () => void,
): AsyncGenerator<Buffer> {
  const iterator = chunks[Symbol.asyncIterator]();
  const held: Buffer[] = [];
  let heldBytes = 0;
  // Enough of the start to recognise a document: the first non-blank bytes.
  while (heldBytes < 64) {
    const next = await iterator.next();
    if (next.done) break;
    const b = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    held.push(b);
    heldBytes += b.length;
  }
  const head = Buffer.concat(held).toString('utf8', 0, Math.min(heldBytes, 4096));
  if (!looksLikeNativeDocument(head)) {
    for (const b of held) yield b;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
    return;
  }
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    const b = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    heldBytes += b.length;
    if (heldBytes > MAX_NATIVE_DOCUMENT_BYTES) {
      throw new NativeDocumentError(`a {"alerts":[…]} document over ${MAX_NATIVE_DOCUMENT_BYTES / 1024 / 1024} MiB: write one alert object per line instead`);
    }
    held.push(b);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.concat(held).toString('utf8').replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new NativeDocumentError(`the input starts like a {"alerts":[…]} document but is not valid JSON: ${(err as Error).message}`);
  }
  const alerts = (doc as { alerts?: unknown }).alerts;
  if (!Array.isArray(alerts)) throw new NativeDocumentError('the {"alerts":[…]} document has no alerts array');
  onDocument();
  // Each element on a line of its own; a non-object element stays a line so the service reports it.
  yield Buffer.from(alerts.map((a) => JSON.stringify(a)).join('\n') + (alerts.length ? '\n' : ''));
}
