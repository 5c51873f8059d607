// Where a Vultr instance becomes a `servers` row, a Vultr block a
// `blockVolumes` row, and a bucket of a Vultr Object Storage subscription a
// `buckets` row.
import { numberFromEnv } from "../../../lib/settings";
import { defineAdapter } from "../../defineAdapter";
import { DEFAULT_RETRY_POLICY, ProviderError, secretRedactor, type ProviderClient } from "../../http";
import {
  asId,
  asItem,
  ItemError,
  optionalPrice,
  optionalString,
  parseWith,
  requiredId,
  requiredNumber,
  requiredString,
  redactStrings,
  withoutSecrets,
} from "../../parse";
import { VultrAPI } from "./api";
import { listBucketsByS3, type S3Access } from "./s3";
import type { VultrBucket } from "./types";

// default_password is the instance's root password; kvm is a console URL
// with an access token in it.
export const VULTR_INSTANCE_SECRETS = ["default_password", "kvm"] as const;

export const parseVultrInstance = parseWith((item, store) => {
  const id = requiredId(item, "id");
  return {
    providerResourceId: id,
    name: optionalString(item, "label") ?? optionalString(item, "hostname") ?? id,
    status: optionalString(item, "status") ?? "unknown",
    region: optionalString(item, "region"),
    publicIpv4: optionalString(item, "main_ip"),
    fullApiData: { instance: store(withoutSecrets(item, VULTR_INSTANCE_SECRETS)) },
  };
});

export const parseVultrBlock = parseWith((item, store) => {
  const id = requiredId(item, "id");
  return {
    providerResourceId: id,
    name: optionalString(item, "label") ?? id,
    sizeGb: requiredNumber(item, "size_gb"),
    region: requiredString(item, "region"),
    status: requiredString(item, "status"),
    // Vultr answers "" for a detached block; that clears the attachment.
    attachedToInstance: optionalString(item, "attached_to_instance"),
    attachedToInstanceLabel: optionalString(item, "attached_to_instance_label"),
    mountId: optionalString(item, "mount_id"),
    blockType: optionalString(item, "block_type"),
    filesystemType: undefined,
    // Vultr's `cost` is the block's monthly price in US dollars.
    monthlyCost: optionalPrice(item, "cost"),
    fullApiData: { block: store(item) },
  };
});

// An Object Storage subscription's S3 credentials: in every list and single
// answer, dropped the moment an answer arrives. Only the action's memory
// holds them, to sign S3 ListBuckets when Vultr's bucket endpoint is missing.
export const VULTR_OBJECT_STORAGE_SECRETS = ["s3_access_key", "s3_secret_key"] as const;

/**
 * A Vultr bucket's key within a dock: its subscription's id and its name.
 * A name is unique within a cluster only, and a dock may hold subscriptions
 * in several clusters; the subscription id (a UUID, no "/") also names where
 * to confirm the bucket, and an S3 bucket name holds no "/".
 */
export function vultrBucketKey(objectStorageId: string, name: string): string {
  return `${objectStorageId}/${name}`;
}

/** What the listing hands on per bucket: the bucket and its subscription without keys. */
export type VultrBucketItem = { bucket: unknown; objectStorage: Record<string, unknown> };

/** The subscription's S3 access, read before its keys are dropped; null when it has none. */
function s3AccessOf(subscription: Record<string, unknown>): S3Access | null {
  const { s3_hostname: hostname, s3_access_key: accessKey, s3_secret_key: secretKey } = subscription;
  if (typeof hostname !== "string" || typeof accessKey !== "string" || typeof secretKey !== "string") return null;
  if (hostname === "" || accessKey === "" || secretKey === "") return null;
  return { hostname, accessKey, secretKey };
}

function withoutS3Keys(subscription: unknown): Record<string, unknown> {
  if (typeof subscription !== "object" || subscription === null || Array.isArray(subscription)) return {};
  const raw = subscription as Record<string, unknown>;
  // The keys go under their own names, and wherever else the answer repeats
  // them (a nested or renamed field).
  const redactors = VULTR_OBJECT_STORAGE_SECRETS.map((k) => raw[k])
    .filter((k): k is string => typeof k === "string" && k !== "")
    .map(secretRedactor);
  const stripped = withoutSecrets(raw, VULTR_OBJECT_STORAGE_SECRETS);
  if (redactors.length === 0) return stripped;
  return redactStrings(stripped, (text) => redactors.reduce((t, redact) => redact(t), text)) as Record<string, unknown>;
}

/**
 * A subscription's buckets: Vultr's bucket endpoint, or on its 404 S3
 * ListBuckets signed with the subscription's keys. A subscription still being
 * set up (pending, no S3 host yet) holds no buckets.
 */
async function bucketsOf(
  api: VultrAPI,
  id: string,
  subscription: Record<string, unknown>,
  access: S3Access | null,
): Promise<unknown[]> {
  const listed = await api.listObjectStorageBuckets(id);
  if (listed !== null) return listed;
  if (access === null) {
    if (subscription.status === "pending" && !subscription.s3_hostname) return [];
    throw new ProviderError(
      "vultr",
      `/v2/object-storage/${encodeURIComponent(id)}/bucket`,
      404,
      "the bucket endpoint is not available and the subscription names no S3 host and keys to ask instead",
      false,
    );
  }
  return await listBucketsByS3(access, {
    timeoutMs: numberFromEnv("SYNC_REQUEST_TIMEOUT_MS", DEFAULT_RETRY_POLICY.timeoutMs),
    deadline: api.client.deadline,
  });
}

/** Every bucket of every subscription, one subscription's buckets per page. */
async function* vultrBucketPages(client: ProviderClient): AsyncGenerator<VultrBucketItem[], void, undefined> {
  const api = new VultrAPI(client);
  for await (const page of api.objectStoragePages()) {
    // The keys leave the page at once; each subscription's access lives only
    // in this generator's memory until its buckets are read.
    const subscriptions = page.map((raw) => {
      const item = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : {};
      return { access: s3AccessOf(item), objectStorage: withoutS3Keys(raw) };
    });
    for (const { access, objectStorage } of subscriptions) {
      const id = objectStorage.id;
      if (typeof id !== "string" || id === "" || id.includes("/")) {
        // Counted as one skipped item: its buckets cannot be asked for.
        yield [{ bucket: undefined, objectStorage }];
        continue;
      }
      const buckets = await bucketsOf(api, id, objectStorage, access);
      yield buckets.map((bucket) => ({ bucket, objectStorage }));
    }
  }
}

// Per sync (the lookup client lives as long as one sync), each subscription's
// bucket names as one read found them, or null when the subscription is gone:
// confirming 50 buckets of one subscription reads its list once, not 50 times.
// Names only, never the keys; a failed read stays failed for this sync.
const bucketNamesBySync = new WeakMap<ProviderClient, Map<string, Promise<Set<string> | null>>>();

function bucketNamesOf(client: ProviderClient, id: string): Promise<Set<string> | null> {
  let bySubscription = bucketNamesBySync.get(client);
  if (bySubscription === undefined) {
    bySubscription = new Map();
    bucketNamesBySync.set(client, bySubscription);
  }
  let names = bySubscription.get(id);
  if (names === undefined) {
    names = (async () => {
      const api = new VultrAPI(client);
      const raw = await api.getObjectStorage(id);
      if (raw === null) return null;
      const access = s3AccessOf(raw as Record<string, unknown>);
      const objectStorage = withoutS3Keys(raw);
      if (objectStorage.status === "pending" && access === null) {
        throw new ProviderError("vultr", `/v2/object-storage/${encodeURIComponent(id)}`, 200, "the subscription is still being set up", false);
      }
      const buckets = await bucketsOf(api, id, objectStorage, access);
      return new Set(
        buckets.flatMap((b) => (typeof b === "object" && b !== null && typeof (b as VultrBucket).name === "string" ? [(b as VultrBucket).name] : [])),
      );
    })();
    bySubscription.set(id, names);
  }
  return names;
}

/**
 * Whether the bucket `key` names still exists: null ("gone") only when Vultr
 * says so, by a 404 for its subscription or a whole bucket list (its own, or
 * S3's) without the name. Every failure throws, and the row is kept.
 */
async function lookupVultrBucket(client: ProviderClient, key: string): Promise<unknown> {
  const slash = key.indexOf("/");
  if (slash <= 0) throw new Error("not a Vultr bucket key");
  const id = key.slice(0, slash);
  const name = key.slice(slash + 1);
  const names = await bucketNamesOf(client, id);
  return names !== null && names.has(name) ? { name, objectStorageId: id } : null;
}

export const parseVultrBucket = parseWith((raw, store) => {
  const objectStorage = asItem(raw.objectStorage);
  const subscriptionId = requiredId(objectStorage, "id");
  if (raw.bucket === undefined) throw new ItemError("the subscription's buckets could not be asked for");
  const bucket = asItem(raw.bucket);
  const name = requiredId(bucket, "name");
  const hostname = optionalString(objectStorage, "s3_hostname");
  const cluster = objectStorage.cluster_id;
  return {
    providerResourceId: asId(vultrBucketKey(subscriptionId, name), "object storage id/name"),
    name,
    region: requiredString(objectStorage, "region"),
    cluster: typeof cluster === "number" || typeof cluster === "string" ? String(cluster) : undefined,
    // Virtual-hosted style, as Vultr's panel shows a bucket's address.
    hostname: hostname === undefined ? undefined : `${name}.${hostname}`,
    s3Endpoint: hostname,
    // A bucket's status is its subscription's (the bucket answers carry none).
    status: optionalString(objectStorage, "status") ?? "unknown",
    // Neither Vultr's bucket endpoint nor S3 ListBuckets tells size or count.
    sizeBytes: undefined,
    objectCount: undefined,
    // Vultr prices the subscription (its tier), not its buckets: counting the
    // price on every bucket would multiply it, so a bucket's cost is unknown.
    // The subscription, tier and price included, is under fullApiData.
    monthlyCost: undefined,
    // Never the keys: the listing dropped them; dropped again here all the same.
    fullApiData: {
      bucket: store(bucket),
      objectStorage: store(withoutSecrets(objectStorage, VULTR_OBJECT_STORAGE_SECRETS)),
    },
  };
});

export const vultrAdapter = defineAdapter({
  provider: "vultr",
  verifyCredentials: (client) => new VultrAPI(client).getAccountId(),
  servers: {
    // Secrets are dropped as soon as a page arrives, so they never travel on
    // as mutation arguments.
    list: async function* (client) {
      for await (const page of new VultrAPI(client).instancePages()) {
        yield page.map((i) => (typeof i === "object" && i !== null ? withoutSecrets(i, VULTR_INSTANCE_SECRETS) : i));
      }
    },
    // Only whether it exists is used; the secrets go at once all the same.
    lookup: async (client, id) => {
      const item = await new VultrAPI(client).getInstance(id);
      return item === null ? null : withoutSecrets(item, VULTR_INSTANCE_SECRETS);
    },
    parse: parseVultrInstance,
  },
  blockVolumes: {
    list: (client) => new VultrAPI(client).blockPages(),
    lookup: (client, id) => new VultrAPI(client).getBlock(id),
    parse: parseVultrBlock,
  },
  buckets: {
    list: vultrBucketPages,
    lookup: lookupVultrBucket,
    parse: parseVultrBucket,
  },
});
