// Where a Linode instance becomes a `servers` row, a Linode Block Storage
// volume a `blockVolumes` row (priced from /v4/volumes/types), and a Linode
// Object Storage bucket a `buckets` row.
import { defineAdapter, withContext } from "../../defineAdapter";
import {
  asId,
  asItem,
  ItemError,
  type Item,
  optionalId,
  optionalPrice,
  optionalString,
  parseWith,
  requiredId,
  requiredNumber,
  requiredNumericId,
  requiredString,
  rowText,
  type Store,
} from "../../parse";
import { LinodeAPI } from "./api";

/**
 * Block Storage's monthly price per GB: the region's own where Linode names
 * one (region_prices), else the base price; either may be unknown.
 */
export type LinodeVolumePrices = {
  base: number | undefined;
  byRegion: ReadonlyMap<string, number>;
};

// The Block Storage type in /v4/volumes/types (Linode lists one).
const VOLUME_TYPE_ID = "volume";

function monthlyOf(price: unknown): number | undefined {
  return typeof price === "object" && price !== null && !Array.isArray(price)
    ? optionalPrice(price as Item, "monthly")
    : undefined;
}

/**
 * The price table from /v4/volumes/types, read leniently: an unreadable
 * price (or region entry) is unknown, never an error, as the volumes list
 * without it all the same.
 */
export function linodeVolumePrices(types: readonly unknown[]): LinodeVolumePrices {
  const byRegion = new Map<string, number>();
  const type = types.find((t) => {
    try {
      return asItem(t).id === VOLUME_TYPE_ID;
    } catch {
      return false;
    }
  }) as Item | undefined;
  if (type === undefined) return { base: undefined, byRegion };
  for (const entry of Array.isArray(type.region_prices) ? type.region_prices : []) {
    if (typeof entry !== "object" || entry === null) continue;
    const region = (entry as Item).id;
    const monthly = monthlyOf(entry);
    if (typeof region === "string" && monthly !== undefined) byRegion.set(region, monthly);
  }
  return { base: monthlyOf(type.price), byRegion };
}

/** US dollars a month for `sizeGb` in `region`, to the cent; undefined when Linode gave no price for it. */
export function linodeVolumeMonthlyCost(
  sizeGb: number,
  region: string,
  prices: LinodeVolumePrices | undefined,
): number | undefined {
  const perGb = prices?.byRegion.get(region) ?? prices?.base;
  if (perGb === undefined || sizeGb < 0) return undefined;
  return Math.round(sizeGb * perGb * 100) / 100;
}

/** linode_id: the Linode a volume is attached to, or null when it is detached. */
function attachedLinode(item: Item): string | undefined {
  const id = item.linode_id;
  if (id === undefined || id === null) return undefined;
  if (typeof id !== "number" || !Number.isSafeInteger(id)) {
    throw new ItemError("linode_id is not an integer or null");
  }
  return String(id);
}

/**
 * A bucket's key within a dock. Linode bucket labels are unique per region
 * only, so the label alone would merge two buckets into one row.
 */
/** The region a legacy Object Storage cluster id is in: "us-east-1" -> "us-east". */
export function regionOfCluster(cluster: string): string {
  return cluster.replace(/-\d+$/, "");
}

export function linodeBucketKey(region: string, label: string): string {
  return `${region}/${label}`;
}

export const parseLinodeInstance = parseWith((item, store) => {
  const id = requiredNumericId(item, "id");
  const ipv4 = Array.isArray(item.ipv4) && typeof item.ipv4[0] === "string" ? rowText(item.ipv4[0]) : undefined;
  return {
    providerResourceId: id,
    name: optionalString(item, "label") ?? id,
    status: optionalString(item, "status") ?? "unknown",
    region: optionalString(item, "region"),
    publicIpv4: ipv4,
    fullApiData: { linode: store(item) },
  };
});

export const parseLinodeVolume = parseWith<
  ReturnType<typeof linodeVolumeFields>,
  LinodeVolumePrices
>((item, store, prices) => linodeVolumeFields(item, store, prices));

function linodeVolumeFields(item: Item, store: Store, prices: LinodeVolumePrices | undefined) {
  const id = requiredNumericId(item, "id");
  const sizeGb = requiredNumber(item, "size");
  const region = requiredString(item, "region");
  const attachedToInstance = attachedLinode(item);
  return {
    providerResourceId: id,
    name: optionalString(item, "label") ?? id,
    sizeGb,
    region,
    status: optionalString(item, "status") ?? "unknown",
    // A null linode_id (detached) leaves both undefined, which clears them.
    attachedToInstance,
    attachedToInstanceLabel: attachedToInstance === undefined ? undefined : optionalString(item, "linode_label"),
    mountId: optionalString(item, "filesystem_path"),
    blockType: optionalString(item, "hardware_type"),
    filesystemType: undefined,
    monthlyCost: linodeVolumeMonthlyCost(sizeGb, region, prices),
    fullApiData: { volume: store(item) },
  };
}

export const parseLinodeBucket = parseWith((item, store) => {
  // Label and region make up the key, so both are read as ids.
  const label = requiredId(item, "label");
  // region replaces the deprecated cluster. An answer with only cluster still
  // names a place: its region is the cluster id without its "-N" suffix
  // ("us-east-1" is in "us-east"), so the key stays the same when a later
  // answer adds region, and the bucket keeps its row and project links.
  const region = optionalId(item, "region") ?? regionOfCluster(requiredId(item, "cluster"));
  return {
    providerResourceId: asId(linodeBucketKey(region, label), "region/label"),
    name: label,
    region,
    cluster: optionalString(item, "cluster"),
    hostname: optionalString(item, "hostname"),
    s3Endpoint: optionalString(item, "s3_endpoint"),
    sizeBytes: requiredNumber(item, "size"),
    objectCount: requiredNumber(item, "objects"),
    // Linode buckets carry no status; listed means it exists.
    status: "active",
    fullApiData: { bucket: store(item) },
  };
});

export const linodeAdapter = defineAdapter({
  provider: "linode",
  verifyCredentials: (client) => new LinodeAPI(client).getProfileUid(),
  servers: {
    list: (client) => new LinodeAPI(client).linodePages(),
    lookup: (client, id) => new LinodeAPI(client).getLinode(id),
    parse: parseLinodeInstance,
  },
  blockVolumes: withContext({
    list: (client) => new LinodeAPI(client).volumePages(),
    lookup: (client, id) => new LinodeAPI(client).getVolume(id),
    // Once per sync, not per volume: the prices are one small public list.
    prepare: async (client) => linodeVolumePrices(await new LinodeAPI(client).listVolumeTypes()),
    // Without the prices this sync, a volume keeps the cost it showed.
    preparedFields: ["monthlyCost"],
    parse: parseLinodeVolume,
  }),
  buckets: {
    list: (client) => new LinodeAPI(client).bucketPages(),
    lookup: (client, key) => {
      // The row key is region/label (linodeBucketKey); a bucket label holds no "/".
      const slash = key.indexOf("/");
      return new LinodeAPI(client).getBucket(key.slice(0, slash), key.slice(slash + 1));
    },
    parse: parseLinodeBucket,
  },
});
