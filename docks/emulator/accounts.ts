// Seeded provider accounts for the emulator: generates Vultr, DigitalOcean and Linode inventory
// shaped like the real list responses, and applies deterministic changes between sync runs.

export type Provider = "vultr" | "digitalocean" | "linode";

export const PROVIDERS: readonly Provider[] = ["vultr", "digitalocean", "linode"];

// Vultr: servers = instances, volumes = blocks, buckets = the buckets of its Object Storage
// subscriptions (objectStorages), each naming its subscription in `object_storage_id`.
// DigitalOcean: servers = droplets, volumes = volumes. Linode: servers = linodes,
// volumes = Block Storage volumes, buckets =
// buckets. The other lists stay empty.
export interface ProviderAccount {
  token: string;
  /** Who the account belongs to, as the account/profile endpoints name it. */
  owner: AccountOwner;
  servers: Record<string, unknown>[];
  volumes: Record<string, unknown>[];
  buckets: Record<string, unknown>[];
  /** Vultr Object Storage subscriptions, S3 keys included (GET /v2/object-storage). */
  objectStorages?: Record<string, unknown>[];
  /**
   * DigitalOcean: the Spaces access key pair S3 ListBuckets accepts. Its buckets are `buckets`
   * ({ name, region, creation_date }), answered per region at <region>.digitaloceanspaces.com.
   */
  spacesKey?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * The identity each provider's account/profile endpoint reports. Drawn from the seed, not the
 * token: a rotated token of the same account (`{ ...account, token }`) keeps it, and another
 * seed is another account.
 */
export interface AccountOwner {
  /** Vultr and DigitalOcean account email, Linode profile email. */
  email: string;
  /** DigitalOcean account.uuid (the user). */
  uuid: string;
  /** DigitalOcean account.team.uuid; without it the account answer has no `team`. */
  teamUuid?: string;
  /** Linode profile uid and username. */
  uid: number;
  username: string;
}

export interface GenerateOptions {
  seed: number;
  servers?: number;
  volumes?: number;
  buckets?: number;
  token?: string;
  /** Share of volumes attached to a server (0..1); ignored when there are no servers. */
  attachedRatio?: number;
  /** Vultr: Object Storage subscriptions the buckets are spread over; default 2 when there are buckets. */
  objectStorages?: number;
}

export interface AccountChange {
  seed: number;
  add?: number;
  remove?: number;
  detach?: number;
  resize?: number;
  /** Vultr Object Storage: buckets and subscriptions removed and added (a removed subscription takes its buckets). */
  vultrObjectStorage?: { addBuckets?: number; removeBuckets?: number; addSubscriptions?: number; removeSubscriptions?: number };
}

// ---------------------------------------------------------------------------
// Deterministic randomness

type Rng = () => number;

function mulberry32(state: number): Rng {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Separate streams per purpose, so that asking for more volumes does not change the servers.
function rngFor(seed: number, salt: string): Rng {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ 0x85ebca6b) >>> 0;
  for (let i = 0; i < salt.length; i++) {
    h = Math.imul(h ^ salt.charCodeAt(i), 0xcc9e2d51);
    h = (h << 13) | (h >>> 19);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return mulberry32(h);
}

function int(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)];
}

function hex(rng: Rng, length: number): string {
  let out = "";
  while (out.length < length) out += Math.floor(rng() * 4294967296).toString(16).padStart(8, "0");
  return out.slice(0, length);
}

function uuid(rng: Rng): string {
  const h = hex(rng, 32);
  const variant = "89ab"[int(rng, 0, 3)];
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

// Partial Fisher-Yates: k distinct indices out of 0..n-1, in random order.
function sampleIndices(rng: Rng, n: number, k: number): number[] {
  const count = Math.max(0, Math.min(n, Math.floor(k)));
  if (count === 0) return [];
  const pool = new Int32Array(n);
  for (let i = 0; i < n; i++) pool[i] = i;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng() * (n - i));
    const chosen = pool[j];
    pool[j] = pool[i];
    pool[i] = chosen;
    out.push(chosen);
  }
  return out;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

// Creation times walk forward from a start date so that list order matches creation order.
function timeline(rng: Rng, count: number, fromIso: string, spanDays: number): () => number {
  let t = Date.parse(fromIso) + int(rng, 0, 30 * 86_400) * 1000;
  const meanStep = Math.max(60, Math.floor((spanDays * 86_400) / Math.max(1, count)));
  return () => {
    t += int(rng, 1, 2 * meanStep) * 1000;
    return t;
  };
}

const isoSeconds = (ms: number) => new Date(ms).toISOString().slice(0, 19);
const vultrDate = (ms: number) => `${isoSeconds(ms)}+00:00`;
const doDate = (ms: number) => `${isoSeconds(ms)}Z`;
const linodeDate = (ms: number) => isoSeconds(ms);

// Documentation address ranges (RFC 5737 / RFC 3849): realistic-looking, never routable.
function ipv4(rng: Rng): string {
  return `${pick(rng, ["192.0.2", "198.51.100", "203.0.113"])}.${int(rng, 2, 254)}`;
}
function gatewayOf(ip: string): string {
  return ip.replace(/\.\d+$/, ".1");
}
function ipv6Prefix(rng: Rng): string {
  return `2001:db8:${hex(rng, 4)}:${hex(rng, 4)}`;
}

const ROLES = [
  "web", "api", "db", "pg", "mysql", "redis", "cache", "media", "backup", "logs", "data",
  "build", "ci", "search", "queue", "analytics", "assets", "uploads", "archive", "metrics",
] as const;
const VOLUME_WORDS = ["data", "vol", "store", "disk", "scratch", "wal"] as const;
const BUCKET_WORDS = ["assets", "backups", "exports", "logs", "media", "static", "uploads", "artifacts"] as const;

// ---------------------------------------------------------------------------
// Vultr

const VULTR_REGIONS = ["ewr", "ord", "dfw", "lax", "sea", "atl", "ams", "fra", "lhr", "sgp", "nrt", "syd"] as const;
const VULTR_PLANS = [
  { plan: "vc2-1c-1gb", vcpu: 1, ram: 1024, disk: 25, bandwidth: 1024 },
  { plan: "vc2-1c-2gb", vcpu: 1, ram: 2048, disk: 55, bandwidth: 2048 },
  { plan: "vc2-2c-4gb", vcpu: 2, ram: 4096, disk: 80, bandwidth: 3072 },
  { plan: "vc2-4c-8gb", vcpu: 4, ram: 8192, disk: 160, bandwidth: 4096 },
  { plan: "vhf-2c-4gb", vcpu: 2, ram: 4096, disk: 128, bandwidth: 3072 },
] as const;
const VULTR_OS = [
  { os: "Ubuntu 22.04 LTS x64", os_id: 1743 },
  { os: "Ubuntu 24.04 LTS x64", os_id: 2284 },
  { os: "Debian 12 x64 (bookworm)", os_id: 2136 },
  { os: "Rocky Linux 9 x64", os_id: 1869 },
] as const;

interface VultrInstance {
  id: string;
  os: string;
  ram: number;
  disk: number;
  main_ip: string;
  vcpu_count: number;
  region: string;
  plan: string;
  date_created: string;
  status: string;
  allowed_bandwidth: number;
  netmask_v4: string;
  gateway_v4: string;
  power_status: string;
  server_status: string;
  v6_network: string;
  v6_main_ip: string;
  v6_network_size: number;
  label: string;
  internal_ip: string;
  kvm: string;
  hostname: string;
  tag: string;
  tags: string[];
  os_id: number;
  app_id: number;
  image_id: string;
  firewall_group_id: string;
  features: string[];
  user_scheme: string;
  default_password: string;
}

interface VultrBlock {
  id: string;
  date_created: string;
  cost: number;
  pending_charges: number;
  status: string;
  size_gb: number;
  region: string;
  attached_to_instance: string;
  attached_to_instance_ip: string;
  attached_to_instance_label: string;
  label: string;
  mount_id: string;
  block_type: string;
  os_id: number;
  snapshot_id: string;
  bootable: boolean;
}

function vultrInstance(rng: Rng, index: number, created: number): VultrInstance {
  const plan = pick(rng, VULTR_PLANS);
  const os = pick(rng, VULTR_OS);
  const region = pick(rng, VULTR_REGIONS);
  const ip = ipv4(rng);
  const v6 = ipv6Prefix(rng);
  const label = `${pick(rng, ROLES)}-${region}-${String(index + 1).padStart(2, "0")}`;
  const backups = rng() < 0.3;
  return {
    id: uuid(rng),
    os: os.os,
    ram: plan.ram,
    disk: plan.disk,
    main_ip: ip,
    vcpu_count: plan.vcpu,
    region,
    plan: plan.plan,
    date_created: vultrDate(created),
    status: "active",
    allowed_bandwidth: plan.bandwidth,
    netmask_v4: "255.255.254.0",
    gateway_v4: gatewayOf(ip),
    power_status: "running",
    server_status: "ok",
    v6_network: `${v6}::`,
    v6_main_ip: `${v6}:5400:04ff:fe${hex(rng, 2)}:${hex(rng, 4)}`,
    v6_network_size: 64,
    label,
    internal_ip: "",
    kvm: `https://my.vultr.com/subs/vps/novnc/api.php?data=${hex(rng, 24)}`,
    hostname: label,
    tag: "",
    tags: rng() < 0.5 ? [pick(rng, ["production", "staging", "internal"])] : [],
    os_id: os.os_id,
    app_id: 0,
    image_id: "",
    firewall_group_id: "",
    features: backups ? ["auto_backups", "ipv6"] : ["ipv6"],
    user_scheme: "root",
    default_password: `${hex(rng, 4)}#${hex(rng, 6).toUpperCase()}!${hex(rng, 4)}`,
  };
}

function vultrCost(sizeGb: number, blockType: string): number {
  return round2(sizeGb * (blockType === "high_perf" ? 0.1 : 0.025));
}

function vultrBlock(rng: Rng, index: number, created: number, server: VultrInstance | undefined): VultrBlock {
  const blockType = rng() < 0.6 ? "high_perf" : "storage_opt";
  const size =
    blockType === "high_perf"
      ? pick(rng, [10, 25, 40, 50, 100, 150, 250, 500, 1000])
      : pick(rng, [40, 100, 250, 500, 1000, 2000, 4000]);
  const region = server ? server.region : pick(rng, VULTR_REGIONS);
  const cost = vultrCost(size, blockType);
  // Vultr allows an empty label; keep a few so that consumers meet one.
  const label = rng() < 0.05 ? "" : `${pick(rng, ROLES)}-${pick(rng, VOLUME_WORDS)}-${index + 1}`;
  return {
    id: uuid(rng),
    date_created: vultrDate(created),
    cost,
    pending_charges: round2(rng() * cost * 0.6),
    status: server || rng() < 0.93 ? "active" : "pending",
    size_gb: size,
    region,
    attached_to_instance: server?.id ?? "",
    attached_to_instance_ip: server?.main_ip ?? "",
    attached_to_instance_label: server?.label ?? "",
    label,
    mount_id: `${region}-${hex(rng, 12)}`,
    block_type: blockType,
    os_id: 0,
    snapshot_id: "",
    bootable: false,
  };
}

// Vultr Object Storage clusters: id, region, S3 host.
const VULTR_S3_CLUSTERS = [
  { id: 2, region: "ewr", host: "ewr1.vultrobjects.com" },
  { id: 4, region: "sjc", host: "sjc1.vultrobjects.com" },
  { id: 5, region: "ams", host: "ams1.vultrobjects.com" },
  { id: 6, region: "blr", host: "blr1.vultrobjects.com" },
  { id: 9, region: "del", host: "del1.vultrobjects.com" },
  { id: 11, region: "sgp", host: "sgp1.vultrobjects.com" },
] as const;

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function chars(rng: Rng, alphabet: string, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(rng() * alphabet.length)];
  return out;
}

function vultrObjectStorage(rng: Rng, index: number, created: number): Record<string, unknown> {
  const cluster = VULTR_S3_CLUSTERS[index % VULTR_S3_CLUSTERS.length];
  return {
    id: uuid(rng),
    date_created: vultrDate(created),
    cluster_id: cluster.id,
    region: cluster.region,
    label: `${pick(rng, ["media", "backups", "assets", "logs"])}-${cluster.region}-${index + 1}`,
    status: "active",
    s3_hostname: cluster.host,
    s3_access_key: chars(rng, ALNUM, 20),
    s3_secret_key: chars(rng, KEY_CHARS, 40),
  };
}

// Buckets spread round-robin over the subscriptions. Every tenth reuses the
// previous name in another subscription (another cluster): names are unique
// per cluster only, and consumers must key buckets by subscription and name.
function vultrBuckets(
  rng: Rng,
  subscriptions: Record<string, unknown>[],
  count: number,
  firstIndex: number,
  next: () => number,
  taken: Set<string>,
): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  if (subscriptions.length === 0) return out;
  const clusterOf = (id: unknown) => subscriptions.find((s) => s.id === id)?.cluster_id;
  for (let i = 0; i < count; i++) {
    const n = firstIndex + i;
    let sub = subscriptions[n % subscriptions.length];
    const previous = out[out.length - 1];
    let name = `${pick(rng, ROLES)}-${pick(rng, BUCKET_WORDS)}-${n.toString(36)}`;
    if (previous && n % 10 === 1 && subscriptions.length > 1) {
      const other = subscriptions.find((s) => s.cluster_id !== clusterOf(previous.object_storage_id));
      if (other) {
        sub = other;
        name = String(previous.name);
      }
    }
    let attempt = 0;
    while (taken.has(`${String(sub.cluster_id)}/${name}`)) name = `${name.replace(/-x\d+$/, "")}-x${++attempt}`;
    taken.add(`${String(sub.cluster_id)}/${name}`);
    out.push({ name, date_created: vultrDate(next()), object_storage_id: sub.id });
  }
  return out;
}

// ---------------------------------------------------------------------------
// DigitalOcean

// Spaces regions buckets are spread over (a subset of DigitalOcean's). Every
// fifth reuses the previous name in the next region: names are unique per
// region only, and consumers must key Spaces buckets by region and name.
const SPACES_REGIONS = ["nyc3", "ams3", "fra1", "sgp1", "sfo3"] as const;

export function spacesBuckets(rng: Rng, count: number, firstIndex: number, next: () => number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const n = firstIndex + i;
    const previous = out[out.length - 1];
    const region = SPACES_REGIONS[n % SPACES_REGIONS.length];
    const name = previous && n % 5 === 4 ? String(previous.name) : `${pick(rng, ROLES)}-${pick(rng, BUCKET_WORDS)}-${n.toString(36)}`;
    out.push({ name, region, creation_date: new Date(next()).toISOString() });
  }
  return out;
}

const DO_REGIONS = [
  { slug: "nyc1", name: "New York 1" },
  { slug: "nyc3", name: "New York 3" },
  { slug: "sfo3", name: "San Francisco 3" },
  { slug: "tor1", name: "Toronto 1" },
  { slug: "ams3", name: "Amsterdam 3" },
  { slug: "fra1", name: "Frankfurt 1" },
  { slug: "lon1", name: "London 1" },
  { slug: "sgp1", name: "Singapore 1" },
  { slug: "blr1", name: "Bangalore 1" },
  { slug: "syd1", name: "Sydney 1" },
] as const;
const DO_REGION_FEATURES = ["private_networking", "backups", "ipv6", "metadata", "install_agent", "storage", "image_transfer"];
const DO_SIZES = [
  { slug: "s-1vcpu-1gb", memory: 1024, vcpus: 1, disk: 25, transfer: 1, price_monthly: 6, price_hourly: 0.00893 },
  { slug: "s-1vcpu-2gb", memory: 2048, vcpus: 1, disk: 50, transfer: 2, price_monthly: 12, price_hourly: 0.01786 },
  { slug: "s-2vcpu-4gb", memory: 4096, vcpus: 2, disk: 80, transfer: 4, price_monthly: 24, price_hourly: 0.03571 },
  { slug: "s-4vcpu-8gb", memory: 8192, vcpus: 4, disk: 160, transfer: 5, price_monthly: 48, price_hourly: 0.07143 },
  { slug: "g-2vcpu-8gb", memory: 8192, vcpus: 2, disk: 25, transfer: 4, price_monthly: 63, price_hourly: 0.09375 },
] as const;
const DO_IMAGES = [
  { id: 129211873, name: "22.04 (LTS) x64", distribution: "Ubuntu", slug: "ubuntu-22-04-x64" },
  { id: 155133621, name: "24.04 (LTS) x64", distribution: "Ubuntu", slug: "ubuntu-24-04-x64" },
  { id: 148524782, name: "12 x64", distribution: "Debian", slug: "debian-12-x64" },
  { id: 133865519, name: "9 x64", distribution: "Rocky Linux", slug: "rockylinux-9-x64" },
] as const;

type DoRegion = (typeof DO_REGIONS)[number];

interface Droplet {
  id: number;
  name: string;
  memory: number;
  vcpus: number;
  disk: number;
  locked: boolean;
  status: string;
  created_at: string;
  features: string[];
  backup_ids: number[];
  snapshot_ids: number[];
  image: Record<string, unknown>;
  volume_ids: string[];
  size: Record<string, unknown>;
  size_slug: string;
  networks: { v4: Record<string, unknown>[]; v6: Record<string, unknown>[] };
  region: Record<string, unknown> & { slug: string };
  tags: string[];
  vpc_uuid: string;
}

interface DoVolume {
  id: string;
  name: string;
  created_at: string;
  description: string;
  droplet_ids: number[];
  region: Record<string, unknown> & { slug: string };
  size_gigabytes: number;
  filesystem_type: string;
  filesystem_label: string;
  tags: string[];
}

// Regions as the API embeds them in every volume and droplet: the full size
// list and feature list, as in DigitalOcean's documented examples (about 600
// bytes of JSON per volume). One object per region, shared: the emulator only
// serializes them, and a client parses a fresh copy per item anyway.
const DO_REGION_SIZE_SLUGS = [
  "s-1vcpu-1gb", "s-1vcpu-2gb", "s-1vcpu-3gb", "s-2vcpu-2gb", "s-3vcpu-1gb", "s-2vcpu-4gb", "s-4vcpu-8gb",
  "s-6vcpu-16gb", "s-8vcpu-32gb", "s-12vcpu-48gb", "s-16vcpu-64gb", "s-20vcpu-96gb", "s-24vcpu-128gb", "s-32vcpu-192gb",
];
const DO_VOLUME_REGION_FEATURES = ["private_networking", "backups", "ipv6", "metadata"];
const DO_REGION_SLUGS = DO_REGIONS.map((r) => r.slug);
const doVolumeRegions = new Map<string, DoVolume["region"]>(
  DO_REGIONS.map((region) => [
    region.slug,
    { name: region.name, slug: region.slug, sizes: DO_REGION_SIZE_SLUGS, features: DO_VOLUME_REGION_FEATURES, available: true },
  ]),
);

function doVolumeRegion(region: DoRegion): DoVolume["region"] {
  return doVolumeRegions.get(region.slug)!;
}

function doRegionBySlug(slug: string): DoRegion {
  return DO_REGIONS.find((r) => r.slug === slug) ?? DO_REGIONS[0];
}

function droplet(rng: Rng, index: number, id: number, created: number, vpcs: Map<string, string>): Droplet {
  const size = pick(rng, DO_SIZES);
  const image = pick(rng, DO_IMAGES);
  const region = pick(rng, DO_REGIONS);
  const ip = ipv4(rng);
  let vpc = vpcs.get(region.slug);
  if (vpc === undefined) {
    vpc = uuid(rng);
    vpcs.set(region.slug, vpc);
  }
  const backups = rng() < 0.3;
  return {
    id,
    name: `${pick(rng, ROLES)}-${region.slug}-${String(index + 1).padStart(2, "0")}`,
    memory: size.memory,
    vcpus: size.vcpus,
    disk: size.disk,
    locked: false,
    status: rng() < 0.9 ? "active" : "off",
    created_at: doDate(created),
    features: backups ? ["backups", "droplet_agent", "private_networking"] : ["droplet_agent", "private_networking"],
    backup_ids: backups ? [int(rng, 150_000_000, 190_000_000)] : [],
    snapshot_ids: [],
    image: {
      ...image,
      public: true,
      regions: DO_REGION_SLUGS,
      created_at: "2024-04-23T14:21:37Z",
      type: "base",
      min_disk_size: 7,
      size_gigabytes: 2.36,
      description: "",
      tags: [],
      status: "available",
      error_message: "",
    },
    volume_ids: [],
    size: {
      slug: size.slug,
      memory: size.memory,
      vcpus: size.vcpus,
      disk: size.disk,
      transfer: size.transfer,
      price_monthly: size.price_monthly,
      price_hourly: size.price_hourly,
      regions: DO_REGION_SLUGS,
      available: true,
      description: "Basic",
    },
    size_slug: size.slug,
    networks: {
      // The private address follows from the id: no extra draw, so every other value stays as it was.
      v4: [
        { ip_address: `10.${(id >>> 16) & 255}.${(id >>> 8) & 255}.${id & 255}`, netmask: "255.255.0.0", gateway: "nil", type: "private" },
        { ip_address: ip, netmask: "255.255.240.0", gateway: gatewayOf(ip), type: "public" },
      ],
      v6: [],
    },
    region: { name: region.name, slug: region.slug, features: DO_REGION_FEATURES, available: true, sizes: DO_REGION_SIZE_SLUGS },
    tags: rng() < 0.5 ? [pick(rng, ["production", "staging", "k8s"])] : [],
    vpc_uuid: vpc,
  };
}

function doVolume(rng: Rng, index: number, created: number, server: Droplet | undefined): DoVolume {
  const region = server ? doRegionBySlug(server.region.slug) : pick(rng, DO_REGIONS);
  const role = pick(rng, ROLES);
  const name = `${role}-${pick(rng, VOLUME_WORDS)}-${region.slug}-${index + 1}`;
  const fs = pick(rng, ["ext4", "ext4", "xfs", ""]);
  return {
    id: uuid(rng),
    name,
    created_at: doDate(created),
    description: rng() < 0.5 ? `${role} storage` : "",
    droplet_ids: server ? [server.id] : [],
    region: doVolumeRegion(region),
    size_gigabytes: pick(rng, [1, 10, 25, 50, 100, 250, 500, 1000, 2000]),
    filesystem_type: fs,
    filesystem_label: fs === "" ? "" : role,
    tags: rng() < 0.3 ? [pick(rng, ["production", "staging", "db"])] : [],
  };
}

// ---------------------------------------------------------------------------
// Linode

const LINODE_REGIONS = ["us-east", "us-central", "us-west", "us-southeast", "eu-central", "eu-west", "ap-south", "us-ord", "us-iad", "fr-par"] as const;
// Object Storage regions; the first four are the legacy E0/E1 clusters.
const LINODE_BUCKET_REGIONS = ["us-east", "us-southeast", "eu-central", "ap-south", "us-ord", "us-iad", "fr-par", "se-sto", "nl-ams", "jp-osa", "us-sea", "in-maa"] as const;
const LEGACY_BUCKET_REGIONS = new Set<string>(LINODE_BUCKET_REGIONS.slice(0, 4));
const LINODE_TYPES = [
  { type: "g6-nanode-1", disk: 25600, memory: 1024, vcpus: 1, transfer: 1000 },
  { type: "g6-standard-1", disk: 51200, memory: 2048, vcpus: 1, transfer: 2000 },
  { type: "g6-standard-2", disk: 81920, memory: 4096, vcpus: 2, transfer: 4000 },
  { type: "g6-dedicated-2", disk: 81920, memory: 4096, vcpus: 2, transfer: 4000 },
  { type: "g6-standard-4", disk: 163840, memory: 8192, vcpus: 4, transfer: 5000 },
] as const;
const LINODE_IMAGES = ["linode/ubuntu22.04", "linode/ubuntu24.04", "linode/debian12", "linode/almalinux9"] as const;

// Block Storage: regions beyond the Linodes' for detached volumes, two of them with their own
// price in LINODE_VOLUME_TYPES.
const LINODE_VOLUME_REGIONS = [...LINODE_REGIONS, "id-cgk", "br-gru"] as const;

/** GET /v4/volumes/types as Linode answers it: the price per GB and month, per-region overrides. */
export const LINODE_VOLUME_TYPES: readonly Record<string, unknown>[] = [
  {
    id: "volume",
    label: "Storage Volume",
    price: { hourly: 0.00015, monthly: 0.1 },
    region_prices: [
      { id: "id-cgk", hourly: 0.00018, monthly: 0.12 },
      { id: "br-gru", hourly: 0.00021, monthly: 0.14 },
    ],
    transfer: 0,
  },
];

interface LinodeVolume {
  id: number;
  label: string;
  status: string;
  size: number;
  region: string;
  linode_id: number | null;
  linode_label: string | null;
  filesystem_path: string;
  hardware_type: string;
  encryption: string;
  tags: string[];
  created: string;
  updated: string;
  io_ready: boolean;
}

interface LinodeBucket {
  label: string;
  region: string;
  cluster: string;
  hostname: string;
  created: string;
  size: number;
  objects: number;
  endpoint_type: string;
  s3_endpoint: string;
}

function linodeInstance(rng: Rng, index: number, id: number, created: number): Record<string, unknown> {
  const type = pick(rng, LINODE_TYPES);
  const region = pick(rng, LINODE_REGIONS);
  const backups = rng() < 0.4;
  return {
    id,
    label: `${pick(rng, ROLES)}-${region}-${String(index + 1).padStart(2, "0")}`,
    group: "",
    status: rng() < 0.9 ? "running" : "offline",
    created: linodeDate(created),
    updated: linodeDate(created + int(rng, 0, 90) * 86_400_000),
    type: type.type,
    ipv4: [ipv4(rng)],
    ipv6: `${ipv6Prefix(rng)}::${hex(rng, 4)}/128`,
    image: pick(rng, LINODE_IMAGES),
    region,
    specs: { disk: type.disk, memory: type.memory, vcpus: type.vcpus, gpus: 0, transfer: type.transfer },
    alerts: { cpu: 90 * type.vcpus, network_in: 10, network_out: 10, transfer_quota: 80, io: 10000 },
    backups: {
      enabled: backups,
      available: backups,
      schedule: { day: backups ? "Scheduling" : null, window: backups ? "Scheduling" : null },
      last_successful: null,
    },
    hypervisor: "kvm",
    watchdog_enabled: true,
    tags: rng() < 0.5 ? [pick(rng, ["production", "staging", "internal"])] : [],
  };
}

function linodeVolume(rng: Rng, index: number, id: number, created: number, server: Record<string, unknown> | undefined): LinodeVolume {
  const label = `${pick(rng, ROLES)}-${pick(rng, VOLUME_WORDS)}-${index + 1}`;
  // A volume attaches only to a Linode in its own region.
  const region = server ? String(server.region) : pick(rng, LINODE_VOLUME_REGIONS);
  return {
    id,
    label,
    status: server || rng() < 0.9 ? "active" : "creating",
    size: pick(rng, [10, 20, 40, 50, 100, 250, 500, 1000, 2000, 10240]),
    region,
    linode_id: server ? Number(server.id) : null,
    linode_label: server ? String(server.label) : null,
    filesystem_path: `/dev/disk/by-id/scsi-0Linode_Volume_${label}`,
    hardware_type: rng() < 0.7 ? "nvme" : "hdd",
    encryption: rng() < 0.5 ? "enabled" : "disabled",
    tags: rng() < 0.3 ? [pick(rng, ["production", "staging", "db"])] : [],
    created: linodeDate(created),
    updated: linodeDate(created + int(rng, 0, 30) * 86_400_000),
    io_ready: server !== undefined,
  };
}

function linodeBucket(rng: Rng, label: string, region: string, created: number): LinodeBucket {
  const objects = rng() < 0.1 ? 0 : int(rng, 1, 250_000);
  const endpointType = LEGACY_BUCKET_REGIONS.has(region) ? pick(rng, ["E0", "E1"]) : pick(rng, ["E1", "E2", "E3"]);
  return {
    label,
    region,
    cluster: `${region}-1`,
    hostname: `${label}.${region}-1.linodeobjects.com`,
    created: linodeDate(created),
    size: objects === 0 ? 0 : objects * int(rng, 2_000, 4_000_000),
    objects,
    endpoint_type: endpointType,
    s3_endpoint: `${region}-1.linodeobjects.com`,
  };
}

function bucketLabel(rng: Rng, index: number): string {
  return `${pick(rng, ROLES)}-${pick(rng, BUCKET_WORDS)}-${index.toString(36)}`;
}

// Every tenth bucket reuses the previous label in another region: labels are unique per region
// only, and consumers must key buckets by (region, label).
function linodeBuckets(rng: Rng, count: number, firstIndex: number, next: () => number, taken: Set<string>): LinodeBucket[] {
  const out: LinodeBucket[] = [];
  for (let i = 0; i < count; i++) {
    const n = firstIndex + i;
    const previous = out[out.length - 1];
    let label: string;
    let region: string;
    if (previous && n % 10 === 1) {
      label = previous.label;
      const others = LINODE_BUCKET_REGIONS.filter((r) => r !== previous.region && !taken.has(`${r}/${label}`));
      region = others.length > 0 ? pick(rng, others) : pick(rng, LINODE_BUCKET_REGIONS);
    } else {
      label = bucketLabel(rng, n);
      region = pick(rng, LINODE_BUCKET_REGIONS);
    }
    let attempt = 0;
    while (taken.has(`${region}/${label}`)) label = `${bucketLabel(rng, n)}-${++attempt}`;
    taken.add(`${region}/${label}`);
    out.push(linodeBucket(rng, label, region, next()));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Tokens

function defaultToken(provider: Provider, seed: number): string {
  const rng = rngFor(seed, `${provider}/token`);
  switch (provider) {
    case "vultr":
      return `EMU${hex(rng, 33).toUpperCase()}`;
    case "digitalocean":
      return `dop_v1_${hex(rng, 64)}`;
    case "linode":
      return hex(rng, 64);
  }
}

function ownerOf(provider: Provider, seed: number): AccountOwner {
  const rng = rngFor(seed, `${provider}/owner`);
  const username = `ops-${hex(rng, 8)}`;
  return {
    email: `${username}@example.test`,
    uuid: uuid(rng),
    teamUuid: uuid(rng),
    uid: int(rng, 1_000_000, 9_999_999),
    username,
  };
}

// Exact count of attached volumes, spread randomly over the list.
function attachmentPlan(rng: Rng, volumes: number, servers: number, ratio: number): Uint8Array {
  const plan = new Uint8Array(volumes);
  if (servers === 0) return plan;
  const r = Math.min(1, Math.max(0, ratio));
  for (const i of sampleIndices(rng, volumes, Math.round(volumes * r))) plan[i] = 1;
  return plan;
}

// ---------------------------------------------------------------------------
// Public API

/**
 * Builds one provider account; the same options always give the same account.
 * DigitalOcean has Spaces buckets (and a Spaces key pair) only when `buckets` is given; Vultr has buckets (in `objectStorages`
 * subscriptions) only when `buckets` is given.
 */
export function generateAccount(provider: Provider, opts: GenerateOptions): ProviderAccount {
  const seed = opts.seed;
  const serverCount = Math.max(0, Math.floor(opts.servers ?? 3));
  const volumeCount = Math.max(0, Math.floor(opts.volumes ?? 8));
  const bucketCount = Math.max(0, Math.floor(opts.buckets ?? 8));
  const ratio = opts.attachedRatio ?? 0.6;
  const token = opts.token ?? defaultToken(provider, seed);
  const owner = ownerOf(provider, seed);
  const rs = rngFor(seed, `${provider}/servers`);
  const rv = rngFor(seed, `${provider}/volumes`);

  switch (provider) {
    case "vultr": {
      const at = timeline(rs, serverCount, "2022-01-10T00:00:00Z", 700);
      const servers = Array.from({ length: serverCount }, (_, i) => vultrInstance(rs, i, at()));
      const plan = attachmentPlan(rv, volumeCount, servers.length, ratio);
      const vt = timeline(rv, volumeCount, "2022-03-01T00:00:00Z", 1000);
      const volumes = Array.from({ length: volumeCount }, (_, i) =>
        vultrBlock(rv, i, vt(), plan[i] ? pick(rv, servers) : undefined),
      );
      // Vultr buckets only when asked for: accounts generated for volumes stay as they were.
      const vultrBucketCount = Math.max(0, Math.floor(opts.buckets ?? 0));
      const ro = rngFor(seed, "vultr/object-storage");
      const subscriptionCount = Math.max(0, Math.floor(opts.objectStorages ?? (vultrBucketCount > 0 ? 2 : 0)));
      const ot = timeline(ro, subscriptionCount + vultrBucketCount, "2022-06-01T00:00:00Z", 900);
      const objectStorages = Array.from({ length: subscriptionCount }, (_, i) => vultrObjectStorage(ro, i, ot()));
      const buckets = vultrBuckets(ro, objectStorages, vultrBucketCount, 0, ot, new Set());
      return { token, owner, servers: asRecords(servers), volumes: asRecords(volumes), buckets, objectStorages };
    }
    case "digitalocean": {
      const at = timeline(rs, serverCount, "2022-01-10T00:00:00Z", 700);
      const vpcs = new Map<string, string>();
      let id = 310_000_000 + int(rs, 0, 9_000_000);
      const servers = Array.from({ length: serverCount }, (_, i) => {
        id += int(rs, 1, 40_000);
        return droplet(rs, i, id, at(), vpcs);
      });
      const plan = attachmentPlan(rv, volumeCount, servers.length, ratio);
      const vt = timeline(rv, volumeCount, "2022-03-01T00:00:00Z", 1000);
      const volumes = Array.from({ length: volumeCount }, (_, i) => {
        const server = plan[i] ? pick(rv, servers) : undefined;
        const volume = doVolume(rv, i, vt(), server);
        server?.volume_ids.push(volume.id);
        return volume;
      });
      // Spaces buckets only when asked for: accounts generated for volumes stay as they were.
      const spacesCount = Math.max(0, Math.floor(opts.buckets ?? 0));
      if (spacesCount === 0) return { token, owner, servers: asRecords(servers), volumes: asRecords(volumes), buckets: [] };
      const rb = rngFor(seed, "digitalocean/spaces");
      const bt = timeline(rb, spacesCount, "2022-05-01T00:00:00Z", 900);
      return {
        token,
        owner,
        servers: asRecords(servers),
        volumes: asRecords(volumes),
        buckets: spacesBuckets(rb, spacesCount, 0, bt),
        spacesKey: { accessKeyId: `DO${chars(rb, ALNUM, 18)}`, secretAccessKey: chars(rb, KEY_CHARS, 43) },
      };
    }
    case "linode": {
      const at = timeline(rs, serverCount, "2022-01-10T00:00:00Z", 700);
      let id = 41_000_000 + int(rs, 0, 9_000_000);
      const servers = Array.from({ length: serverCount }, (_, i) => {
        id += int(rs, 1, 20_000);
        return linodeInstance(rs, i, id, at());
      });
      const plan = attachmentPlan(rv, volumeCount, servers.length, ratio);
      const vt = timeline(rv, volumeCount, "2022-03-01T00:00:00Z", 1000);
      let volumeId = 3_000_000 + int(rv, 0, 900_000);
      const volumes = Array.from({ length: volumeCount }, (_, i) => {
        volumeId += int(rv, 1, 50);
        return linodeVolume(rv, i, volumeId, vt(), plan[i] ? pick(rv, servers) : undefined);
      });
      const rb = rngFor(seed, "linode/buckets");
      const bt = timeline(rb, bucketCount, "2022-03-01T00:00:00Z", 1000);
      const buckets = linodeBuckets(rb, bucketCount, 0, bt, new Set());
      return { token, owner, servers, volumes: asRecords(volumes), buckets: asRecords(buckets) };
    }
  }
}

const DEFAULT_SEED = 20_240_611;

/**
 * The small account each provider serves unless told otherwise: 4 servers and 8 volumes
 * (5 attached, 3 detached, spread over regions) for Vultr and DigitalOcean, and 6 Vultr
 * buckets in 2 Object Storage subscriptions; 3 Linodes, 6 volumes (3 attached) and 8
 * buckets, two of which share a label in two regions.
 */
export function defaultAccounts(): Record<Provider, ProviderAccount> {
  return {
    vultr: generateAccount("vultr", { seed: DEFAULT_SEED, servers: 4, volumes: 8, attachedRatio: 0.625, buckets: 6, objectStorages: 2 }),
    digitalocean: generateAccount("digitalocean", { seed: DEFAULT_SEED, servers: 4, volumes: 8, attachedRatio: 0.625, buckets: 5 }),
    linode: generateAccount("linode", { seed: DEFAULT_SEED, servers: 3, volumes: 6, attachedRatio: 0.5, buckets: 8 }),
  };
}

/**
 * Returns a changed copy of an account (the input is not mutated): removes `remove` volumes,
 * detaches `detach` attached volumes, grows `resize` volumes and appends `add` new ones.
 * Linode's buckets take the same add/remove/resize (resize: size and object count) besides its
 * volumes, each from its own random stream. Counts past what exists are capped.
 */
export function applyChanges(provider: Provider, account: ProviderAccount, change: AccountChange): ProviderAccount {
  const rng = rngFor(change.seed, `${provider}/change`);
  const add = Math.max(0, Math.floor(change.add ?? 0));
  const remove = Math.max(0, Math.floor(change.remove ?? 0));
  const detach = Math.max(0, Math.floor(change.detach ?? 0));
  const resize = Math.max(0, Math.floor(change.resize ?? 0));
  const next = timeline(rng, add, "2025-09-01T00:00:00Z", 60);

  switch (provider) {
    case "vultr": {
      const servers = account.servers as unknown as VultrInstance[];
      const removed = new Set(sampleIndices(rng, account.volumes.length, remove));
      const volumes = (account.volumes as unknown as VultrBlock[]).filter((_, i) => !removed.has(i));
      const attached = indicesWhere(volumes, (v) => v.attached_to_instance !== "");
      for (const k of sampleIndices(rng, attached.length, detach)) {
        const i = attached[k];
        volumes[i] = { ...(volumes[i]), attached_to_instance: "", attached_to_instance_ip: "", attached_to_instance_label: "" };
      }
      for (const i of sampleIndices(rng, volumes.length, resize)) {
        const v = volumes[i];
        const size_gb = v.size_gb + int(rng, 1, 10) * 10;
        volumes[i] = { ...v, size_gb, cost: vultrCost(size_gb, v.block_type) };
      }
      const ids = new Set(volumes.map((v) => v.id));
      for (let n = 0; n < add; n++) {
        const server = servers.length > 0 && rng() < 0.5 ? pick(rng, servers) : undefined;
        let block = vultrBlock(rng, volumes.length + n, next(), server);
        while (ids.has(block.id)) block = { ...block, id: uuid(rng) };
        ids.add(block.id);
        volumes.push(block);
      }
      const { objectStorages, buckets } = changeVultrObjectStorage(rng, account, change, next);
      return { ...account, servers: account.servers.slice(), volumes: asRecords(volumes), buckets, objectStorages };
    }
    case "digitalocean": {
      const original = account.servers as unknown as Droplet[];
      // Droplets are copied only when their volume_ids change.
      const changed = new Map<number, Droplet>();
      const byId = new Map(original.map((d) => [d.id, d]));
      const writable = (dropletId: number): Droplet | undefined => {
        let d = changed.get(dropletId);
        if (d) return d;
        const source = byId.get(dropletId);
        if (!source) return undefined;
        d = { ...source, volume_ids: source.volume_ids.slice() };
        changed.set(dropletId, d);
        return d;
      };
      const unlink = (v: DoVolume) => {
        for (const dropletId of v.droplet_ids) {
          const d = writable(dropletId);
          if (d) d.volume_ids = d.volume_ids.filter((id) => id !== v.id);
        }
      };
      const all = account.volumes as unknown as DoVolume[];
      const removed = new Set(sampleIndices(rng, all.length, remove));
      for (const i of removed) unlink(all[i]);
      const volumes = all.filter((_, i) => !removed.has(i));
      const attached = indicesWhere(volumes, (v) => v.droplet_ids.length > 0);
      for (const k of sampleIndices(rng, attached.length, detach)) {
        const i = attached[k];
        unlink(volumes[i]);
        volumes[i] = { ...(volumes[i]), droplet_ids: [] };
      }
      for (const i of sampleIndices(rng, volumes.length, resize)) {
        const v = volumes[i];
        volumes[i] = { ...v, size_gigabytes: v.size_gigabytes + int(rng, 1, 10) * 10 };
      }
      const ids = new Set(volumes.map((v) => v.id));
      for (let n = 0; n < add; n++) {
        const target = original.length > 0 && rng() < 0.5 ? pick(rng, original) : undefined;
        let volume = doVolume(rng, volumes.length + n, next(), target);
        while (ids.has(volume.id)) volume = { ...volume, id: uuid(rng) };
        ids.add(volume.id);
        if (target) writable(target.id)?.volume_ids.push(volume.id);
        volumes.push(volume);
      }
      const servers = original.map((s) => changed.get(s.id) ?? s);
      return { ...account, servers: asRecords(servers), volumes: asRecords(volumes), buckets: account.buckets.slice() };
    }
    case "linode": {
      const volumes = changeLinodeVolumes(account, { ...change, add, remove, detach, resize });
      const removed = new Set(sampleIndices(rng, account.buckets.length, remove));
      const buckets = (account.buckets as unknown as LinodeBucket[]).filter((_, i) => !removed.has(i));
      for (const i of sampleIndices(rng, buckets.length, resize)) {
        const b = buckets[i];
        const added = int(rng, 1, 5_000);
        buckets[i] = { ...b, objects: b.objects + added, size: b.size + added * int(rng, 2_000, 4_000_000) };
      }
      const taken = new Set(buckets.map((b) => `${b.region}/${b.label}`));
      const labelBase = buckets.length + int(rng, 1_000, 1_000_000);
      buckets.push(...linodeBuckets(rng, add, labelBase, next, taken));
      return { ...account, servers: account.servers.slice(), volumes, buckets: asRecords(buckets) };
    }
  }
}

// Subscriptions removed take their buckets; new ones start empty, in the next
// cluster. Buckets removed and added are spread over what remains.
function changeVultrObjectStorage(
  rng: Rng,
  account: ProviderAccount,
  change: AccountChange,
  next: () => number,
): { objectStorages: Record<string, unknown>[]; buckets: Record<string, unknown>[] } {
  const c = change.vultrObjectStorage ?? {};
  const count = (n: number | undefined) => Math.max(0, Math.floor(n ?? 0));
  const before = account.objectStorages ?? [];
  const goneSubs = new Set(sampleIndices(rng, before.length, count(c.removeSubscriptions)).map((i) => before[i].id));
  const objectStorages = before.filter((s) => !goneSubs.has(s.id));
  for (let n = 0; n < count(c.addSubscriptions); n++) {
    objectStorages.push(vultrObjectStorage(rng, before.length + n, next()));
  }
  let buckets = account.buckets.filter((b) => !goneSubs.has(b.object_storage_id));
  const removed = new Set(sampleIndices(rng, buckets.length, count(c.removeBuckets)));
  buckets = buckets.filter((_, i) => !removed.has(i));
  const taken = new Set(
    buckets.map((b) => `${String(objectStorages.find((s) => s.id === b.object_storage_id)?.cluster_id)}/${String(b.name)}`),
  );
  const extra = count(c.addBuckets);
  if (extra > 0) {
    const at = timeline(rng, extra, "2025-09-01T00:00:00Z", 60);
    buckets.push(...vultrBuckets(rng, objectStorages, extra, buckets.length + int(rng, 1_000, 1_000_000), at, taken));
  }
  return { objectStorages, buckets };
}

// Linode volumes change from a stream of their own, so the buckets change as they did before
// the account had volumes.
function changeLinodeVolumes(account: ProviderAccount, change: Required<Omit<AccountChange, "seed" | "vultrObjectStorage">> & { seed: number }): Record<string, unknown>[] {
  const rng = rngFor(change.seed, "linode/volume-change");
  const next = timeline(rng, change.add, "2025-09-01T00:00:00Z", 60);
  const servers = account.servers;
  const removed = new Set(sampleIndices(rng, account.volumes.length, change.remove));
  const volumes = (account.volumes as unknown as LinodeVolume[]).filter((_, i) => !removed.has(i));
  const attached = indicesWhere(volumes, (v) => v.linode_id !== null);
  for (const k of sampleIndices(rng, attached.length, change.detach)) {
    const i = attached[k];
    volumes[i] = { ...volumes[i], linode_id: null, linode_label: null, io_ready: false };
  }
  for (const i of sampleIndices(rng, volumes.length, change.resize)) {
    const v = volumes[i];
    volumes[i] = { ...v, size: v.size + int(rng, 1, 10) * 10 };
  }
  let id = volumes.reduce((max, v) => Math.max(max, v.id), 3_000_000);
  for (let n = 0; n < change.add; n++) {
    const server = servers.length > 0 && rng() < 0.5 ? pick(rng, servers) : undefined;
    id += int(rng, 1, 50);
    volumes.push(linodeVolume(rng, volumes.length + n, id, next(), server));
  }
  return asRecords(volumes);
}

function indicesWhere<T>(items: readonly T[], test: (item: T) => boolean): number[] {
  const out: number[] = [];
  items.forEach((item, i) => {
    if (test(item)) out.push(i);
  });
  return out;
}

function asRecords<T extends object>(items: T[]): Record<string, unknown>[] {
  return items as unknown as Record<string, unknown>[];
}
