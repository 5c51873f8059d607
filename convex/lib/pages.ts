// The page options a client sends to a paginated query, checked and capped
// before they reach `.paginate()`: a bad value gets INVALID_ARGUMENT, not
// Convex's own uncoded error, and a page is never larger than the query allows.
import type { PaginationOptions } from "convex/server";
import { ConvexError } from "convex/values";
import { fail } from "./errors";

/** `opts` with numItems at most `maxItems` and maximumBytesRead at most `maxBytes`; INVALID_ARGUMENT when out of range. */
export function checkedPageOptions(opts: PaginationOptions, maxItems: number, maxBytes?: number): PaginationOptions {
  if (!Number.isInteger(opts.numItems) || opts.numItems < 1) {
    fail("INVALID_ARGUMENT", `numItems must be a whole number from 1 (pages hold at most ${maxItems} rows).`);
  }
  if (opts.maximumBytesRead !== undefined && (!Number.isInteger(opts.maximumBytesRead) || opts.maximumBytesRead < 1)) {
    fail("INVALID_ARGUMENT", "maximumBytesRead must be a whole number of bytes from 1.");
  }
  if (opts.maximumRowsRead !== undefined && (!Number.isInteger(opts.maximumRowsRead) || opts.maximumRowsRead < 1)) {
    fail("INVALID_ARGUMENT", "maximumRowsRead must be a whole number from 1.");
  }
  // A page re-run up to its endCursor reads to the cursor whatever numItems
  // says: the row bound holds it at maxItems (Convex then asks the client to
  // split the page, as usePaginatedQuery does).
  const checked = {
    ...opts,
    numItems: Math.min(opts.numItems, maxItems),
    maximumRowsRead: Math.min(opts.maximumRowsRead ?? maxItems, maxItems),
  };
  if (maxBytes !== undefined) checked.maximumBytesRead = Math.min(opts.maximumBytesRead ?? maxBytes, maxBytes);
  return checked;
}

/**
 * Runs one page read; a cursor the database cannot read (not one this query
 * gave out, or from before a deploy changed its index) is INVALID_ARGUMENT,
 * so a client can start again from the first page.
 */
export async function readPage<T>(opts: PaginationOptions, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    const clientCursor = opts.cursor !== null || (opts.endCursor ?? null) !== null;
    if (clientCursor && !(error instanceof ConvexError) && /cursor|json/i.test(String((error as Error).message))) {
      fail("INVALID_ARGUMENT", "This page cursor cannot be read; start again from the first page.");
    }
    throw error;
  }
}
