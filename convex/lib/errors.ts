// The closed set of expected-failure codes a client can branch on. Bugs and
// broken invariants throw plain Error instead.
import { ConvexError } from "convex/values";

export type ErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "INVALID_ARGUMENT"
  | "ALREADY_SYNCING"
  // "sync dock" pressed again right after a sync ended: each sync spends the
  // provider's rate limit.
  | "SYNC_TOO_SOON"
  | "INVALID_CREDENTIALS"
  // A rotated key the provider accepts, but for another provider account than
  // the dock's: storing it would make the next sync delete the dock's rows.
  | "ACCOUNT_MISMATCH"
  // A bound that keeps a read small by construction (organizations per user).
  | "LIMIT_REACHED"
  | "CONFIGURATION"
  // An array query's answer would pass Convex's limits: page instead.
  | "TOO_MANY_ROWS"
  // A valid filter and sort combination that no index serves (docs/find-and-sort.md):
  // refused rather than answered by scanning.
  | "FILTER_NOT_SUPPORTED"
  // Internal: a sync whose lease was taken over or whose dock was deleted.
  | "LEASE_LOST"
  // The provider could not be reached or answered with an error (not a key problem).
  | "PROVIDER_ERROR";

export type ErrorData = { code: ErrorCode; message: string };

export function fail(code: ErrorCode, message: string): never {
  throw new ConvexError<ErrorData>({ code, message });
}
