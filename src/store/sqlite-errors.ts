import { StaleFencingTokenError } from './lease.js';
import { StoreAbortedError, StoreError, StoreRejectedError, StoreUnavailableError } from './errors.js';

/**
 * better-sqlite3's failures as store errors: a busy or locked file (another process holds the write lock
 * past busy_timeout), I/O errors and a full disk are "unavailable, try again"; a closed store, a corrupt
 * or read-only file are unavailable for good; a constraint or anything else is a rejected request.
 * Errors of the store's own family, a lost lease and argument RangeErrors pass through. Pure.
 */
export function toStoreError(err: unknown, operation: string): Error {
  if (err instanceof StoreError || err instanceof StaleFencingTokenError || err instanceof RangeError) return err;
  const code = typeof (err as { code?: unknown } | null)?.code === 'string' ? (err as { code: string }).code : '';
  const message = err instanceof Error ? err.message : String(err);
  const text = `${operation} failed: ${code ? `${code}: ` : ''}${message}`;
  if (/^SQLITE_(BUSY|LOCKED|IOERR|FULL|PROTOCOL|CANTOPEN|INTERRUPT)/.test(code)) return new StoreUnavailableError(text, true, { cause: err });
  if (/^SQLITE_(CORRUPT|NOTADB|READONLY|PERM|AUTH)/.test(code)) return new StoreUnavailableError(text, false, { cause: err });
  if (err instanceof TypeError && /database connection is not open/.test(message)) return new StoreUnavailableError(`${operation} failed: the store is closed`, false, { cause: err });
  return new StoreRejectedError(text, { cause: err });
}

/** Throws StoreAbortedError when `signal` has fired (checked before any work, so nothing is written). */
export function checkSignal(signal: AbortSignal | undefined, operation: string): void {
  if (signal?.aborted) throw new StoreAbortedError(operation, { cause: signal.reason });
}
