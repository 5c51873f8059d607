// Where a Linode instance becomes a `servers` row and a Linode Object Storage
// bucket becomes a `buckets` row.
import { defineAdapter } from "../../defineAdapter";
import {
  asId,
  optionalId,
  optionalString,
  parseWith,
  requiredId,
  requiredNumber,
  requiredNumericId,
  rowText,
} from "../../parse";
import { LinodeAPI } from "./api";

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
