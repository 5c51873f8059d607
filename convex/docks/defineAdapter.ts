// Builds a DockAdapter from what differs per provider (endpoints, parsers, an
// optional enrichment); the sync methods are the shared chunk upsert.
import type { Provider, SyncedType } from "../validators";
import type { DockAdapter, Parsed, RawItem, SyncedFields, SyncMethod } from "./_types";
import type { ProviderClient } from "./http";
import { type Enrich, syncChunk } from "./sync";

export type ResourceSpec<T extends SyncedType, C = unknown> = {
  list: (client: ProviderClient) => AsyncIterable<RawItem[]>;
  lookup: (client: ProviderClient, key: string) => Promise<RawItem | null>;
  /** Reads, once per sync, what parse needs besides the item (see DockAdapter.prepare). */
  prepare?: (client: ProviderClient) => Promise<C>;
  /** The fields parse derives from the context (see DockAdapter.preparedFields). */
  preparedFields?: readonly string[];
  parse: (item: RawItem, context?: C) => Parsed<T>;
  enrich?: Enrich<T>;
  /** Listed only when the dock holds an S3 key pair (DockAdapter.needsS3Key). */
  needsS3Key?: true;
};

/**
 * A resource spec whose parse takes a prepared context of its own type, as
 * the adapter stores it: the sync hands parse only what prepare returned.
 */
export function withContext<T extends SyncedType, C>(spec: ResourceSpec<T, C>): ResourceSpec<T> {
  return spec as unknown as ResourceSpec<T>;
}

export type AdapterSpec = {
  provider: Provider;
  verifyCredentials: (client: ProviderClient) => Promise<string>;
  servers?: ResourceSpec<"servers">;
  blockVolumes?: ResourceSpec<"blockVolumes">;
  buckets?: ResourceSpec<"buckets">;
};

function syncMethod<T extends SyncedType>(type: T, spec: ResourceSpec<T> | undefined): SyncMethod | undefined {
  if (spec === undefined) return undefined;
  return (ctx, dock, rows, rowIds, serverNames, keepFields) =>
    syncChunk(ctx, dock, type, rows as SyncedFields<T>[], Date.now(), spec.enrich, rowIds, serverNames, keepFields);
}

export function defineAdapter(spec: AdapterSpec): DockAdapter {
  return {
    provider: spec.provider,
    verifyCredentials: spec.verifyCredentials,
    needsServerNames: spec.blockVolumes?.enrich !== undefined,
    needsS3Key: {
      ...(spec.servers?.needsS3Key && { servers: true }),
      ...(spec.blockVolumes?.needsS3Key && { blockVolumes: true }),
      ...(spec.buckets?.needsS3Key && { buckets: true }),
    },
    list: {
      ...(spec.servers && { servers: spec.servers.list }),
      ...(spec.blockVolumes && { blockVolumes: spec.blockVolumes.list }),
      ...(spec.buckets && { buckets: spec.buckets.list }),
    },
    lookup: {
      ...(spec.servers && { servers: spec.servers.lookup }),
      ...(spec.blockVolumes && { blockVolumes: spec.blockVolumes.lookup }),
      ...(spec.buckets && { buckets: spec.buckets.lookup }),
    },
    prepare: {
      ...(spec.servers?.prepare && { servers: spec.servers.prepare }),
      ...(spec.blockVolumes?.prepare && { blockVolumes: spec.blockVolumes.prepare }),
      ...(spec.buckets?.prepare && { buckets: spec.buckets.prepare }),
    },
    preparedFields: {
      ...(spec.servers?.preparedFields && { servers: spec.servers.preparedFields }),
      ...(spec.blockVolumes?.preparedFields && { blockVolumes: spec.blockVolumes.preparedFields }),
      ...(spec.buckets?.preparedFields && { buckets: spec.buckets.preparedFields }),
    },
    parse: {
      ...(spec.servers && { servers: spec.servers.parse }),
      ...(spec.blockVolumes && { blockVolumes: spec.blockVolumes.parse }),
      ...(spec.buckets && { buckets: spec.buckets.parse }),
    },
    syncServers: syncMethod("servers", spec.servers),
    syncBlockVolumes: syncMethod("blockVolumes", spec.blockVolumes),
    syncBuckets: syncMethod("buckets", spec.buckets),
  };
}
