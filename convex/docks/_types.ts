// The contract every provider adapter fulfils: what it lists from the provider
// (in an action) and how each listed item becomes a row (in a mutation).
import type { Doc } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import type { SyncedType } from "../validators";
import type { ProviderClient } from "./http";
import type { ChunkResult, ServerNames } from "./sync";

/** A provider item as it came over the wire; not trusted until parsed. */
export type RawItem = unknown;

/** The row fields a sync owns for a table (not tenancy, provisioning or timestamps). */
export type SyncedFields<T extends SyncedType> = Omit<
  Doc<T>,
  | "_id"
  | "_creationTime"
  | "orgId"
  | "dockId"
  | "provider"
  | "updatedAt"
  | "provisioningSource"
  | "provisioningState"
  | "provisionedAt"
  | "provisionedBy"
  | "provisioningError"
>;

/** One provider item turned into row fields, or the reason it cannot be. */
export type Parsed<T extends SyncedType> =
  | { ok: true; fields: SyncedFields<T>; /** What storing the item had to change, if anything. */ trimmed?: string[] }
  | { ok: false; reason: string };

/**
 * Writes one chunk of a type's listing. `preFetchedData` holds row fields the
 * action parsed from the provider's items (see sync.ts, syncChunk).
 */
export type SyncMethod = (
  ctx: MutationCtx,
  dock: Doc<"docks">,
  preFetchedData: RawItem[],
  // The row id of each item's key, as the action read it (null: no row).
  rowIds?: (string | null)[],
  serverNames?: ServerNames,
  // Fields an existing row keeps this sync (its prepare failed).
  keepFields?: readonly string[],
) => Promise<ChunkResult>;

export interface DockAdapter {
  readonly provider: Doc<"docks">["provider"];
  /**
   * Makes the provider's cheapest authenticated call and answers which
   * account the token belongs to (docks.accountId); throws ProviderError if
   * the token is refused or the answer names no account.
   */
  verifyCredentials(client: ProviderClient): Promise<string>;
  /**
   * Lists every item of each supported type, a page at a time as pages
   * arrive; ends normally only when the listing was complete. Runs in an action.
   */
  readonly list: Partial<Record<SyncedType, (client: ProviderClient) => AsyncIterable<RawItem[]>>>;
  /**
   * Asks the provider for one item by its row key (providerResourceId): the
   * item, or null when the provider says it does not exist (404). Confirms a
   * deletion before a row is removed.
   */
  readonly lookup: Partial<Record<SyncedType, (client: ProviderClient, key: string) => Promise<RawItem | null>>>;
  /**
   * Types listed only with a second credential (ProviderClient.s3Key): a dock
   * without one does not sync them, and says so by their absent stats.
   */
  readonly needsS3Key: Partial<Record<SyncedType, true>>;
  /** Whether a type's rows name the server they are attached to from the dock's server rows. */
  readonly needsServerNames: boolean;
  /**
   * What a type's parse needs besides the item, read once per sync before the
   * listing (Linode's volume price table). Optional per type; the sync treats
   * its failure as "no context" (parse then leaves what it would add unknown),
   * so it never costs the listing.
   */
  readonly prepare: Partial<Record<SyncedType, (client: ProviderClient) => Promise<unknown>>>;
  /**
   * The row fields parse derives from the prepared context (Linode's
   * monthlyCost from its price list): when prepare failed, an existing row
   * keeps them, so a failed side call never blanks what a row showed.
   */
  readonly preparedFields: Partial<Record<SyncedType, readonly string[]>>;
  /**
   * Pure mapping of one item, given the type's prepared context (undefined
   * without one); the action uses it to order and chunk items by key.
   */
  readonly parse: Partial<{ [T in SyncedType]: (item: RawItem, context?: unknown) => Parsed<T> }>;
  syncServers?: SyncMethod;
  syncBlockVolumes?: SyncMethod;
  syncBuckets?: SyncMethod;
}
