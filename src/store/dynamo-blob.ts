import { gunzipSync, gzipSync } from 'node:zlib';
import { StoreRejectedError } from './errors.js';

/**
 * JSON documents that may outgrow one DynamoDB item (400 KB, names and values together). A document is
 * gzipped; up to INLINE_BYTES it stays in its item, beyond that it is cut into parts of PART_BYTES, each
 * its own item written in the same transaction as the item that names them. The cap keeps one write
 * inside TransactWriteItems' 4 MB and 100 items whatever else the transaction carries.
 */
export const INLINE_BYTES = 300_000;
export const PART_BYTES = 300_000;
export const MAX_PARTS = 10;

export type EncodedDoc = { readonly inline: Uint8Array } | { readonly parts: readonly Uint8Array[] };

export function encodeDoc(value: unknown, what: string): EncodedDoc {
  const packed = gzipSync(Buffer.from(JSON.stringify(value), 'utf8'));
  if (packed.length <= INLINE_BYTES) return { inline: packed };
  const parts: Uint8Array[] = [];
  for (let off = 0; off < packed.length; off += PART_BYTES) parts.push(packed.subarray(off, off + PART_BYTES));
  if (parts.length > MAX_PARTS) {
    throw new StoreRejectedError(`${what} is ${(packed.length / 1e6).toFixed(1)} MB compressed; the DynamoDB store keeps at most ${((MAX_PARTS * PART_BYTES) / 1e6).toFixed(1)} MB per document (nothing was written)`);
  }
  return { parts };
}

export function decodeDoc<T>(chunks: readonly Uint8Array[]): T {
  return JSON.parse(gunzipSync(Buffer.concat(chunks.map((c) => Buffer.from(c)))).toString('utf8')) as T;
}

/** A small JSON value (audit data, key-value entries): plain text, gzipped once it is large. */
export const SMALL_TEXT_BYTES = 64_000;

export function encodeSmall(value: unknown, what: string): { readonly text: string } | { readonly packed: Uint8Array } {
  const text = JSON.stringify(value ?? null);
  if (text.length <= SMALL_TEXT_BYTES) return { text };
  const packed = gzipSync(Buffer.from(text, 'utf8'));
  if (packed.length > INLINE_BYTES) throw new StoreRejectedError(`${what} is ${(packed.length / 1e3).toFixed(0)} KB compressed; at most ${INLINE_BYTES / 1e3} KB fits one DynamoDB item (nothing was written)`);
  return { packed };
}

export function decodeSmall<T>(text: string | undefined, packed: Uint8Array | undefined): T {
  if (text !== undefined) return JSON.parse(text) as T;
  if (packed !== undefined) return JSON.parse(gunzipSync(Buffer.from(packed)).toString('utf8')) as T;
  throw new StoreRejectedError('dynamodb item holds no value');
}
