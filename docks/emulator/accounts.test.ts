// Behaviour of the seeded account generator, the default accounts and account changes.
import { describe, expect, it } from "vitest";
import { applyChanges, defaultAccounts, generateAccount, PROVIDERS, type ProviderAccount } from "./accounts";

type Item = Record<string, unknown>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function regionLabel(bucket: Item): string {
  return `${String(bucket.region)}/${String(bucket.label)}`;
}

function sameLabelInTwoRegions(buckets: Item[]): boolean {
  const regionsByLabel = new Map<string, Set<string>>();
  for (const b of buckets) {
    const set = regionsByLabel.get(String(b.label)) ?? new Set<string>();
    set.add(String(b.region));
    regionsByLabel.set(String(b.label), set);
  }
  return [...regionsByLabel.values()].some((regions) => regions.size >= 2);
}

function doRegion(item: Item): string {
  return (item.region as { slug: string }).slug;
}

describe("generateAccount", () => {
  it("gives the same account for the same seed and a different one for another seed", () => {
    for (const provider of PROVIDERS) {
      const a = generateAccount(provider, { seed: 42, servers: 5, volumes: 20, buckets: 20 });
      const b = generateAccount(provider, { seed: 42, servers: 5, volumes: 20, buckets: 20 });
      const c = generateAccount(provider, { seed: 43, servers: 5, volumes: 20, buckets: 20 });
      expect(b).toEqual(a);
      expect(c).not.toEqual(a);
    }
  });

  it("keeps the servers the same when only the number of volumes changes", () => {
    const few = generateAccount("vultr", { seed: 5, servers: 4, volumes: 3 });
    const many = generateAccount("vultr", { seed: 5, servers: 4, volumes: 300 });
    expect(many.servers).toEqual(few.servers);
  });

  it("uses uuids for Vultr instances and blocks", () => {
    const account = generateAccount("vultr", { seed: 1, servers: 3, volumes: 10 });
    for (const item of [...account.servers, ...account.volumes]) expect(item.id).toMatch(UUID);
    expect(account.buckets).toEqual([]);
  });

  it("uses numeric droplet ids and uuid volume ids for DigitalOcean", () => {
    const account = generateAccount("digitalocean", { seed: 1, servers: 3, volumes: 10 });
    for (const d of account.servers) expect(Number.isInteger(d.id)).toBe(true);
    for (const v of account.volumes) expect(v.id).toMatch(UUID);
    expect(new Set(account.servers.map((d) => d.id)).size).toBe(3);
    expect(account.buckets).toEqual([]);
  });

  it("uses numeric Linode ids for Linodes and volumes, and buckets without ids", () => {
    const account = generateAccount("linode", { seed: 1, servers: 3, buckets: 10, volumes: 10 });
    for (const l of account.servers) expect(Number.isInteger(l.id)).toBe(true);
    for (const v of account.volumes) expect(Number.isInteger(v.id)).toBe(true);
    expect(new Set(account.volumes.map((v) => v.id)).size).toBe(10);
    for (const b of account.buckets) {
      expect(b).not.toHaveProperty("id");
      expect(b.hostname).toBe(`${String(b.label)}.${String(b.region)}-1.linodeobjects.com`);
      expect(b.cluster).toBe(`${String(b.region)}-1`);
      expect(["E0", "E1", "E2", "E3"]).toContain(b.endpoint_type);
    }
  });

  it("attaches Linode volumes only to Linodes of the same account and region, naming them", () => {
    const account = generateAccount("linode", { seed: 2, servers: 4, volumes: 60, attachedRatio: 0.5 });
    const byId = new Map(account.servers.map((s) => [s.id, s]));
    const attached = account.volumes.filter((v) => v.linode_id !== null);
    expect(attached).toHaveLength(30);
    for (const v of attached) {
      const linode = byId.get(v.linode_id);
      expect(linode?.region).toBe(v.region);
      expect(v.linode_label).toBe(linode?.label);
    }
    const detached = account.volumes.filter((v) => v.linode_id === null);
    for (const v of detached) expect(v.linode_label).toBeNull();
    // Detached ones reach regions no Linode is in, some with a price of their own.
    expect(new Set(account.volumes.map((v) => v.region)).size).toBeGreaterThanOrEqual(5);
    expect(new Set(account.volumes.map((v) => v.encryption))).toEqual(new Set(["enabled", "disabled"]));
    expect(new Set(account.volumes.map((v) => v.hardware_type))).toEqual(new Set(["nvme", "hdd"]));
  });

  it("attaches Vultr blocks only to instances of the same account and region", () => {
    const account = generateAccount("vultr", { seed: 2, servers: 4, volumes: 40, attachedRatio: 0.5 });
    const byId = new Map(account.servers.map((s) => [s.id, s]));
    const attached = account.volumes.filter((v) => v.attached_to_instance !== "");
    expect(attached).toHaveLength(20);
    for (const v of attached) {
      const server = byId.get(v.attached_to_instance);
      expect(server).toBeDefined();
      expect(v.attached_to_instance_label).toBe(server?.label);
      expect(v.attached_to_instance_ip).toBe(server?.main_ip);
      expect(v.region).toBe(server?.region);
    }
    for (const v of account.volumes.filter((x) => x.attached_to_instance === "")) {
      expect(v.attached_to_instance_label).toBe("");
      expect(v.attached_to_instance_ip).toBe("");
    }
  });

  it("links DigitalOcean volumes and droplets both ways", () => {
    const account = generateAccount("digitalocean", { seed: 2, servers: 4, volumes: 40, attachedRatio: 0.5 });
    const byId = new Map(account.servers.map((s) => [s.id, s]));
    let attached = 0;
    for (const v of account.volumes) {
      const ids = v.droplet_ids as number[];
      if (ids.length === 0) continue;
      attached++;
      const droplet = byId.get(ids[0]);
      expect(droplet?.volume_ids).toContain(v.id);
      expect(doRegion(droplet as Item)).toBe(doRegion(v));
    }
    expect(attached).toBe(20);
    const listed = account.servers.flatMap((d) => d.volume_ids as string[]);
    expect(listed).toHaveLength(20);
  });

  it("attaches nothing when there are no servers", () => {
    const account = generateAccount("vultr", { seed: 3, servers: 0, volumes: 10, attachedRatio: 1 });
    expect(account.volumes.every((v) => v.attached_to_instance === "")).toBe(true);
  });

  it("puts buckets with the same label in two regions but never twice in one region", () => {
    const account = generateAccount("linode", { seed: 9, buckets: 500 });
    expect(sameLabelInTwoRegions(account.buckets)).toBe(true);
    expect(new Set(account.buckets.map(regionLabel)).size).toBe(500);
  });

  it("uses the given token, or a provider-shaped default", () => {
    expect(generateAccount("vultr", { seed: 1, token: "mine" }).token).toBe("mine");
    expect(generateAccount("digitalocean", { seed: 1 }).token).toMatch(/^dop_v1_[0-9a-f]{64}$/);
    expect(generateAccount("linode", { seed: 1 }).token).toMatch(/^[0-9a-f]{64}$/);
    expect(generateAccount("vultr", { seed: 1 }).token).toMatch(/^[0-9A-Z]{36}$/);
  });

  // How long generating takes is the benchmark's to report, not a test's.
  it("generates 50,000 volumes for each provider, every key distinct", () => {
    for (const provider of ["vultr", "digitalocean"] as const) {
      const account = generateAccount(provider, { seed: 11, servers: 200, volumes: 50_000 });
      expect(account.volumes).toHaveLength(50_000);
      expect(new Set(account.volumes.map((v) => v.id)).size).toBe(50_000);
    }
    const linode = generateAccount("linode", { seed: 11, servers: 200, buckets: 50_000 });
    expect(new Set(linode.buckets.map(regionLabel)).size).toBe(50_000);
  });
});

describe("defaultAccounts", () => {
  it("holds a handful of servers and 8 volumes, attached and detached, over several regions", () => {
    const accounts = defaultAccounts();
    const vultr = accounts.vultr;
    expect(vultr.servers).toHaveLength(4);
    expect(vultr.volumes).toHaveLength(8);
    expect(vultr.volumes.filter((v) => v.attached_to_instance !== "")).toHaveLength(5);
    expect(new Set(vultr.volumes.map((v) => v.region)).size).toBeGreaterThanOrEqual(3);
    expect(vultr.objectStorages).toHaveLength(2);
    expect(vultr.buckets).toHaveLength(6);

    const digitalocean = accounts.digitalocean;
    expect(digitalocean.servers).toHaveLength(4);
    expect(digitalocean.volumes).toHaveLength(8);
    expect(digitalocean.volumes.filter((v) => (v.droplet_ids as number[]).length > 0)).toHaveLength(5);
    expect(new Set(digitalocean.volumes.map(doRegion)).size).toBeGreaterThanOrEqual(3);
  });

  it("holds 6 Linode volumes (3 attached) and 8 buckets over several regions, two sharing a label in two regions", () => {
    const { linode } = defaultAccounts();
    expect(linode.servers).toHaveLength(3);
    expect(linode.volumes).toHaveLength(6);
    expect(linode.volumes.filter((v) => v.linode_id !== null)).toHaveLength(3);
    expect(linode.buckets).toHaveLength(8);
    expect(new Set(linode.buckets.map((b) => b.region)).size).toBeGreaterThanOrEqual(4);
    expect(sameLabelInTwoRegions(linode.buckets)).toBe(true);
  });

  it("is the same on every call and uses a distinct token per provider", () => {
    const a = defaultAccounts();
    expect(defaultAccounts()).toEqual(a);
    expect(new Set(PROVIDERS.map((p) => a[p].token)).size).toBe(3);
  });
});

describe("applyChanges", () => {
  function frozenCopy(account: ProviderAccount): string {
    return JSON.stringify(account);
  }

  it("adds, removes, detaches and resizes Vultr blocks without touching the input", () => {
    const before = generateAccount("vultr", { seed: 4, servers: 3, volumes: 30, attachedRatio: 0.5 });
    const snapshot = frozenCopy(before);
    const after = applyChanges("vultr", before, { seed: 1, add: 4, remove: 3, detach: 2, resize: 5 });
    expect(frozenCopy(before)).toBe(snapshot);
    expect(after.volumes).toHaveLength(31);
    expect(after.token).toBe(before.token);

    const oldById = new Map(before.volumes.map((v) => [v.id, v]));
    const kept = after.volumes.filter((v) => oldById.has(v.id));
    expect(kept).toHaveLength(27);
    expect(after.volumes.filter((v) => !oldById.has(v.id))).toHaveLength(4);
    const detached = kept.filter((v) => oldById.get(v.id)?.attached_to_instance !== "" && v.attached_to_instance === "");
    expect(detached).toHaveLength(2);
    for (const v of detached) expect(v.attached_to_instance_label).toBe("");
    const grown = kept.filter((v) => (v.size_gb as number) > (oldById.get(v.id)?.size_gb as number));
    expect(grown).toHaveLength(5);
  });

  it("keeps DigitalOcean droplet volume_ids in step with detached and removed volumes", () => {
    const before = generateAccount("digitalocean", { seed: 4, servers: 3, volumes: 30, attachedRatio: 0.8 });
    const snapshot = frozenCopy(before);
    const after = applyChanges("digitalocean", before, { seed: 2, add: 6, remove: 5, detach: 4, resize: 3 });
    expect(frozenCopy(before)).toBe(snapshot);
    expect(after.volumes).toHaveLength(31);

    const volumeById = new Map(after.volumes.map((v) => [v.id, v]));
    for (const d of after.servers) {
      for (const id of d.volume_ids as string[]) expect(volumeById.get(id)?.droplet_ids).toEqual([d.id]);
    }
    for (const v of after.volumes) {
      for (const dropletId of v.droplet_ids as number[]) {
        expect(after.servers.find((d) => d.id === dropletId)?.volume_ids).toContain(v.id);
      }
    }
    const oldById = new Map(before.volumes.map((v) => [v.id, v]));
    const detached = after.volumes.filter((v) => {
      const old = oldById.get(v.id);
      return old !== undefined && (old.droplet_ids as number[]).length > 0 && (v.droplet_ids as number[]).length === 0;
    });
    expect(detached).toHaveLength(4);
    expect(after.volumes.filter((v) => oldById.has(v.id))).toHaveLength(25);
  });

  it("adds, removes and grows Linode buckets while labels stay unique per region", () => {
    const before = generateAccount("linode", { seed: 6, servers: 2, buckets: 40 });
    const snapshot = frozenCopy(before);
    const after = applyChanges("linode", before, { seed: 3, add: 12, remove: 4, resize: 6 });
    expect(frozenCopy(before)).toBe(snapshot);
    expect(after.buckets).toHaveLength(48);
    expect(new Set(after.buckets.map(regionLabel)).size).toBe(48);
    const old = new Map(before.buckets.map((b) => [regionLabel(b), b]));
    const grown = after.buckets.filter((b) => {
      const prev = old.get(regionLabel(b));
      return prev !== undefined && (b.objects as number) > (prev.objects as number) && (b.size as number) > (prev.size as number);
    });
    expect(grown).toHaveLength(6);
    expect(after.buckets.filter((b) => !old.has(regionLabel(b)))).toHaveLength(12);
  });

  it("adds, removes, detaches and resizes Linode volumes, and changes the buckets as without them", () => {
    const before = generateAccount("linode", { seed: 6, servers: 3, volumes: 30, attachedRatio: 0.6, buckets: 40 });
    const snapshot = frozenCopy(before);
    const after = applyChanges("linode", before, { seed: 3, add: 5, remove: 4, detach: 3, resize: 6 });
    expect(frozenCopy(before)).toBe(snapshot);
    expect(after.volumes).toHaveLength(31);
    expect(new Set(after.volumes.map((v) => v.id)).size).toBe(31);
    const oldById = new Map(before.volumes.map((v) => [v.id, v]));
    const kept = after.volumes.filter((v) => oldById.has(v.id));
    expect(kept).toHaveLength(26);
    const detached = kept.filter((v) => oldById.get(v.id)?.linode_id !== null && v.linode_id === null);
    expect(detached).toHaveLength(3);
    for (const v of detached) expect(v.linode_label).toBeNull();
    expect(kept.filter((v) => (v.size as number) > (oldById.get(v.id)?.size as number))).toHaveLength(6);
    // The volumes draw from their own stream: the buckets change exactly as for an account without volumes.
    const bucketsOnly = applyChanges("linode", { ...before, volumes: [] }, { seed: 3, add: 5, remove: 4, detach: 3, resize: 6 });
    expect(after.buckets).toEqual(bucketsOnly.buckets);
  });

  it("is deterministic for a seed and caps counts at what exists", () => {
    const base = generateAccount("vultr", { seed: 8, servers: 2, volumes: 5 });
    const a = applyChanges("vultr", base, { seed: 5, add: 2, remove: 2, resize: 2 });
    const b = applyChanges("vultr", base, { seed: 5, add: 2, remove: 2, resize: 2 });
    expect(b).toEqual(a);
    const wiped = applyChanges("vultr", base, { seed: 5, remove: 50, detach: 50 });
    expect(wiped.volumes).toEqual([]);
  });

  it("never reuses an existing id when the change seed equals the generation seed", () => {
    const base = generateAccount("digitalocean", { seed: 10, servers: 2, volumes: 20 });
    const after = applyChanges("digitalocean", base, { seed: 10, add: 20 });
    expect(new Set(after.volumes.map((v) => v.id)).size).toBe(40);
  });
});

describe("Vultr Object Storage", () => {
  const key = (b: Record<string, unknown>, subs: Record<string, unknown>[]) =>
    `${String(subs.find((s) => s.id === b.object_storage_id)?.cluster_id)}/${String(b.name)}`;

  it("spreads the buckets over the subscriptions, names unique per cluster and one name in two clusters", () => {
    const account = generateAccount("vultr", { seed: 4, servers: 1, volumes: 1, buckets: 40, objectStorages: 3 });
    const subs = account.objectStorages!;
    expect(subs).toHaveLength(3);
    expect(new Set(subs.map((s) => s.cluster_id)).size).toBe(3);
    for (const s of subs) {
      expect(s.s3_hostname).toMatch(/^[a-z]+1\.vultrobjects\.com$/);
      expect(String(s.s3_access_key)).toMatch(/^[A-Z0-9]{20}$/);
      expect(String(s.s3_secret_key)).toHaveLength(40);
    }
    expect(account.buckets).toHaveLength(40);
    expect(new Set(account.buckets.map((b) => key(b, subs))).size).toBe(40);
    expect(new Set(account.buckets.map((b) => b.name)).size).toBeLessThan(40);
  });

  it("applyChanges removes and adds buckets and subscriptions; a removed subscription takes its buckets", () => {
    const before = generateAccount("vultr", { seed: 4, buckets: 40, objectStorages: 3 });
    const after = applyChanges("vultr", before, {
      seed: 2,
      vultrObjectStorage: { removeSubscriptions: 1, addSubscriptions: 2, removeBuckets: 3, addBuckets: 7 },
    });
    const subs = after.objectStorages!;
    expect(subs).toHaveLength(4);
    const gone = before.objectStorages!.find((s) => !subs.some((x) => x.id === s.id))!;
    expect(after.buckets.some((b) => b.object_storage_id === gone.id)).toBe(false);
    const ofGone = before.buckets.filter((b) => b.object_storage_id === gone.id).length;
    expect(after.buckets).toHaveLength(40 - ofGone - 3 + 7);
    for (const b of after.buckets) expect(subs.some((s) => s.id === b.object_storage_id)).toBe(true);
    expect(new Set(after.buckets.map((b) => key(b, subs))).size).toBe(after.buckets.length);
    // The input is not changed.
    expect(before.objectStorages).toHaveLength(3);
  });
});
