// Array answers that hold every row or refuse: Convex refuses any value with
// more than 8,192 array elements (a query's answer included) and a query that
// reads more than 16 MiB, and a silently cut list would show less than there
// is. Past these bounds a query throws TOO_MANY_ROWS and the dashboard pages.
import type { Id } from "../_generated/dataModel";
import { utf8Length } from "./documentLimits";
import { fail } from "./errors";

export const LIST_MAX_ROWS = 8000;
export const LIST_MAX_BYTES = 8 * 1024 * 1024;

/** The size Convex counts for a document, near enough: its JSON text in UTF-8. */
export function approximateBytes(row: unknown): number {
  // int64 fields (bigint) have no JSON form of their own: counted as digits.
  return utf8Length(JSON.stringify(row, (_key, value: unknown) => (typeof value === "bigint" ? String(value) : value)));
}

/**
 * Every row of each org through `readOrg`, or TOO_MANY_ROWS once the answer
 * would pass LIST_MAX_ROWS rows or LIST_MAX_BYTES read. `instead` says what
 * to call instead (a paginated query, or the same one with orgId).
 */
export async function collectForOrgs<R>(
  orgIds: Id<"organizations">[],
  readOrg: (orgId: Id<"organizations">) => AsyncIterable<R>,
  instead: string,
): Promise<R[]> {
  const rows: R[] = [];
  let bytes = 0;
  for (const orgId of orgIds) {
    for await (const row of readOrg(orgId)) {
      bytes += approximateBytes(row);
      if (rows.length >= LIST_MAX_ROWS || bytes > LIST_MAX_BYTES) {
        fail(
          "TOO_MANY_ROWS",
          `More rows than one answer can hold (${LIST_MAX_ROWS} rows or ${LIST_MAX_BYTES / 1024 / 1024} MiB); ${instead}.`,
        );
      }
      rows.push(row);
    }
  }
  return rows;
}
