// Where a DigitalOcean Spaces bucket becomes a `buckets` row. DigitalOcean's
// API has no endpoint that lists Spaces buckets: S3 ListBuckets does, signed
// with a Spaces access key pair the dock may hold besides its API token
// (ProviderClient.s3Key). Without one, the adapter does not list buckets.
import { numberFromEnv, spacesListBucketsUrl } from "../../../lib/settings";
import { DEFAULT_RETRY_POLICY, ProviderError, type ProviderClient, type S3KeyPair } from "../../http";
import { asId, asItem, parseWith, requiredId } from "../../parse";
import { listBucketsSigned, s3HostUrl, type S3Bucket, type S3Options } from "../../s3";

/**
 * The regions Spaces is offered in, as DigitalOcean's docs list them. Each has
 * its own endpoint, https://<region>.digitaloceanspaces.com, and each is asked
 * for its buckets: DigitalOcean's tools describe ListBuckets as listing "the
 * Spaces in region", and an endpoint that answered with every region's buckets
 * would only repeat rows under other keys, never lose one.
 */
export const SPACES_REGIONS = ["nyc3", "sfo2", "sfo3", "ams3", "sgp1", "fra1", "syd1", "blr1", "lon1", "tor1", "atl1"] as const;

// The keys go only to a Spaces region endpoint: "<region>.digitaloceanspaces.com".
const SPACES_HOST = /^[a-z]{3}[0-9]\.digitaloceanspaces\.com$/;

/** Whether a hostname is a Spaces region endpoint (the only hosts the pair is sent to). */
export function isSpacesHost(hostname: string): boolean {
  return SPACES_HOST.test(hostname);
}

export function spacesHost(region: string): string {
  return `${region}.digitaloceanspaces.com`;
}

/**
 * A Spaces bucket's key within a dock: its region and name. A name is unique
 * within a region only, so the same name in two regions is two buckets; the
 * region also names the endpoint that confirms it is gone. Neither holds "/".
 */
export function spacesBucketKey(region: string, name: string): string {
  return `${region}/${name}`;
}

/** Every bucket ListBuckets answers at one region's endpoint, signed with the pair. */
export async function listSpacesBuckets(region: string, key: S3KeyPair, options: S3Options = {}): Promise<S3Bucket[]> {
  const hostname = spacesHost(region);
  if (!isSpacesHost(hostname)) {
    throw new ProviderError("digitalocean", `S3 ListBuckets on ${region}`, null, "not a Spaces region; the key is not sent there", false);
  }
  return await listBucketsSigned(
    {
      provider: "digitalocean",
      hostname,
      url: s3HostUrl(hostname, spacesListBucketsUrl()),
      // Spaces checks the credential scope's region against the endpoint's.
      region,
      accessKey: key.accessKeyId,
      secretKey: key.secretAccessKey,
    },
    { timeoutMs: numberFromEnv("SYNC_REQUEST_TIMEOUT_MS", DEFAULT_RETRY_POLICY.timeoutMs), ...options },
  );
}

/** What the listing hands on per bucket. */
export type SpacesBucketItem = { region: string; bucket: S3Bucket };

function keyOf(client: ProviderClient): S3KeyPair {
  // The sync lists this type only for a dock with a pair (needsS3Key).
  if (client.s3Key === undefined) throw new Error("no Spaces key on this client");
  return client.s3Key;
}

/** Every Spaces bucket, one region's buckets per page. */
export async function* spacesBucketPages(client: ProviderClient): AsyncGenerator<SpacesBucketItem[], void, undefined> {
  const key = keyOf(client);
  for (const region of SPACES_REGIONS) {
    const buckets = await listSpacesBuckets(region, key, { deadline: client.deadline });
    yield buckets.map((bucket) => ({ region, bucket }));
  }
}

// Per sync (the lookup client lives as long as one sync), each region's bucket
// names as one whole ListBuckets answered them: confirming many buckets of a
// region reads it once. A failed read stays failed for this sync.
const namesBySync = new WeakMap<ProviderClient, Map<string, Promise<Set<string>>>>();

/**
 * Whether the bucket `key` names still exists: null ("gone") only when its
 * region's ListBuckets answered whole without the name; every failure throws,
 * and the row is kept.
 */
export async function lookupSpacesBucket(client: ProviderClient, key: string): Promise<SpacesBucketItem | null> {
  const slash = key.indexOf("/");
  const region = key.slice(0, slash);
  if (slash <= 0 || !(SPACES_REGIONS as readonly string[]).includes(region)) throw new Error("not a Spaces bucket key");
  const name = key.slice(slash + 1);
  let byRegion = namesBySync.get(client);
  if (byRegion === undefined) {
    byRegion = new Map();
    namesBySync.set(client, byRegion);
  }
  let names = byRegion.get(region);
  if (names === undefined) {
    names = listSpacesBuckets(region, keyOf(client), { deadline: client.deadline }).then((buckets) => new Set(buckets.map((b) => b.name)));
    byRegion.set(region, names);
  }
  return (await names).has(name) ? { region, bucket: { name, date_created: "" } } : null;
}

export const parseSpacesBucket = parseWith((raw, store) => {
  const region = requiredId(raw, "region");
  const bucket = asItem(raw.bucket);
  const name = requiredId(bucket, "name");
  const endpoint = spacesHost(region);
  return {
    providerResourceId: asId(spacesBucketKey(region, name), "region/name"),
    name,
    region,
    cluster: undefined,
    // Virtual-hosted style, as DigitalOcean's panel shows a bucket's origin.
    hostname: `${name}.${endpoint}`,
    s3Endpoint: endpoint,
    // ListBuckets names live buckets only, and gives no state.
    status: "active",
    // S3 ListBuckets gives neither size nor object count.
    sizeBytes: undefined,
    objectCount: undefined,
    // Spaces is priced per account (a subscription with included storage),
    // not per bucket: a bucket's cost is unknown.
    monthlyCost: undefined,
    fullApiData: { bucket: store(bucket) },
  };
});
