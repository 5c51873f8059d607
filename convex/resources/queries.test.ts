import { describe, expect, test } from "vitest";
import { api } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import volumesSample from "../../docks/digitalocean/getVolumes.json";
import { newTest, seedDock, seedMember, seedOrg, type TestConvex } from "../test.setup";
import { LIST_MAX_BYTES, LIST_MAX_ROWS } from "../lib/boundedLists";
import { MAX_PAGE_SIZE } from "./queries";

async function seedVolume(t: TestConvex, orgId: Id<"organizations">, dockId: Id<"docks">, key: string) {
  return await t.run((ctx) =>
    ctx.db.insert("blockVolumes", {
      orgId,
      dockId,
      provider: "vultr",
      providerResourceId: key,
      name: key,
      status: "active",
      sizeGb: 10,
      region: "ewr",
      fullApiData: { block: { id: key } },
      updatedAt: 0,
    }),
  );
}

async function seedBucket(t: TestConvex, orgId: Id<"organizations">, dockId: Id<"docks">, key: string) {
  return await t.run((ctx) =>
    ctx.db.insert("buckets", {
      orgId,
      dockId,
      provider: "linode",
      providerResourceId: key,
      name: key.split("/")[1],
      region: key.split("/")[0],
      status: "active",
      sizeBytes: 0,
      objectCount: 0,
      fullApiData: { bucket: {} },
      updatedAt: 0,
    }),
  );
}

async function twoOrgs() {
  const t = newTest();
  const orgA = await seedOrg(t, "A");
  const orgB = await seedOrg(t, "B");
  const dockA = await seedDock(t, orgA, "vultr", "token-a");
  const dockB = await seedDock(t, orgB, "vultr", "token-b");
  await seedVolume(t, orgA, dockA, "vol-a");
  await seedVolume(t, orgB, dockB, "vol-b");
  const linodeA = await seedDock(t, orgA, "linode", "token-la");
  await seedBucket(t, orgA, linodeA, "us-ord/a-bucket");
  return { t, orgA, orgB, dockA, dockB };
}

describe("resource queries", () => {
  test("without an identity they answer UNAUTHENTICATED", async () => {
    const { t } = await twoOrgs();
    for (const q of [api.resources.queries.listServers, api.resources.queries.listBlockVolumes, api.resources.queries.listBuckets]) {
      await expect(t.query(q, {})).rejects.toThrow(/UNAUTHENTICATED/);
    }
  });

  test("a signed-in user without a membership sees empty lists", async () => {
    const { t } = await twoOrgs();
    const { as } = await seedMember(t, null);
    expect(await as.query(api.resources.queries.listBlockVolumes, {})).toEqual([]);
    expect(await as.query(api.resources.queries.listBuckets, {})).toEqual([]);
    expect(await as.query(api.resources.queries.listServers, {})).toEqual([]);
  });

  test("an identity that was never stored as a user sees empty lists", async () => {
    const { t } = await twoOrgs();
    const stranger = t.withIdentity({ tokenIdentifier: "https://auth.test|nobody" });
    expect(await stranger.query(api.resources.queries.listBlockVolumes, {})).toEqual([]);
  });

  test("a member sees only their org's volumes and buckets", async () => {
    const { t, orgA } = await twoOrgs();
    const { as } = await seedMember(t, orgA, "viewer");
    const volumes = await as.query(api.resources.queries.listBlockVolumes, {});
    expect(volumes.map((v) => v.providerResourceId)).toEqual(["vol-a"]);
    const buckets = await as.query(api.resources.queries.listBuckets, { orgId: orgA });
    expect(buckets.map((b) => b.providerResourceId)).toEqual(["us-ord/a-bucket"]);
  });

  test("a user of org B sees none of org A's rows whatever the arguments", async () => {
    const { t, orgA, orgB } = await twoOrgs();
    const { as } = await seedMember(t, orgB, "owner");
    expect(await as.query(api.resources.queries.listBlockVolumes, { orgId: orgA })).toEqual([]);
    expect(await as.query(api.resources.queries.listBuckets, { orgId: orgA })).toEqual([]);
    const own = await as.query(api.resources.queries.listBlockVolumes, {});
    expect(own.map((v) => v.orgId)).toEqual([orgB]);
  });

  test("without orgId a user of two orgs sees the rows of both", async () => {
    const { t, orgA, orgB } = await twoOrgs();
    const { userId, as } = await seedMember(t, orgA, "viewer");
    await t.run((ctx) => ctx.db.insert("memberships", { orgId: orgB, userId, role: "member" }));
    const volumes = await as.query(api.resources.queries.listBlockVolumes, {});
    expect(volumes.map((v) => v.providerResourceId).sort()).toEqual(["vol-a", "vol-b"]);
  });
});

describe("paginated resource queries", () => {
  async function mixedOrg() {
    const t = newTest();
    const orgA = await seedOrg(t, "A");
    const orgB = await seedOrg(t, "B");
    const vultr = await seedDock(t, orgA, "vultr", "v");
    const vultr2 = await seedDock(t, orgA, "vultr", "v2");
    const other = await seedDock(t, orgB, "vultr", "o");
    for (let i = 0; i < 7; i++) await seedVolume(t, orgA, vultr, `a-${i}`);
    for (let i = 0; i < 3; i++) await seedVolume(t, orgA, vultr2, `b-${i}`);
    await t.run((ctx) =>
      ctx.db.insert("blockVolumes", {
        orgId: orgA,
        dockId: vultr2,
        provider: "digitalocean",
        providerResourceId: "do-1",
        name: "do-1",
        status: "active",
        sizeGb: 1,
        region: "nyc1",
        fullApiData: {},
        updatedAt: 0,
      }),
    );
    await seedVolume(t, orgB, other, "other");
    return { t, orgA, orgB, vultr, other };
  }

  async function readAll(
    page: (cursor: string | null) => Promise<{ page: { providerResourceId: string }[]; isDone: boolean; continueCursor: string }>,
  ) {
    const keys: string[] = [];
    let cursor: string | null = null;
    for (;;) {
      const result = await page(cursor);
      keys.push(...result.page.map((r) => r.providerResourceId));
      if (result.isDone) return keys;
      cursor = result.continueCursor;
    }
  }

  test("pages through an org's volumes without repeats or gaps", async () => {
    const { t, orgA } = await mixedOrg();
    const { as } = await seedMember(t, orgA, "viewer");
    const keys = await readAll((cursor) =>
      as.query(api.resources.queries.paginateBlockVolumes, { orgId: orgA, paginationOpts: { numItems: 3, cursor } }),
    );
    expect(keys.sort()).toEqual(["a-0", "a-1", "a-2", "a-3", "a-4", "a-5", "a-6", "b-0", "b-1", "b-2", "do-1"]);
  });

  test("filters by dock and by provider", async () => {
    const { t, orgA, vultr } = await mixedOrg();
    const { as } = await seedMember(t, orgA, "viewer");
    const byDock = await readAll((cursor) =>
      as.query(api.resources.queries.paginateBlockVolumes, { orgId: orgA, dockId: vultr, paginationOpts: { numItems: 4, cursor } }),
    );
    expect(byDock.sort()).toEqual(["a-0", "a-1", "a-2", "a-3", "a-4", "a-5", "a-6"]);
    const byProvider = await readAll((cursor) =>
      as.query(api.resources.queries.paginateBlockVolumes, {
        orgId: orgA,
        provider: "digitalocean",
        paginationOpts: { numItems: 4, cursor },
      }),
    );
    expect(byProvider).toEqual(["do-1"]);
  });

  test("another org's dock or org gives an empty page", async () => {
    const { t, orgA, orgB, other } = await mixedOrg();
    const { as } = await seedMember(t, orgA, "owner");
    const opts = { numItems: 10, cursor: null };
    expect((await as.query(api.resources.queries.paginateBlockVolumes, { orgId: orgB, paginationOpts: opts })).page).toEqual([]);
    expect(
      (await as.query(api.resources.queries.paginateBlockVolumes, { orgId: orgA, dockId: other, paginationOpts: opts })).page,
    ).toEqual([]);
    expect((await as.query(api.resources.queries.paginateServers, { orgId: orgB, paginationOpts: opts })).page).toEqual([]);
    expect((await as.query(api.resources.queries.paginateBuckets, { orgId: orgB, paginationOpts: opts })).page).toEqual([]);
  });

  test("a page is capped at MAX_PAGE_SIZE rows", async () => {
    const { t, orgA, vultr } = await mixedOrg();
    await t.run(async (ctx) => {
      for (let i = 0; i < MAX_PAGE_SIZE + 5; i++) {
        await ctx.db.insert("blockVolumes", {
          orgId: orgA,
          dockId: vultr,
          provider: "vultr",
          providerResourceId: `bulk-${i}`,
          name: `bulk-${i}`,
          status: "active",
          sizeGb: 1,
          region: "ewr",
          fullApiData: {},
          updatedAt: 0,
        });
      }
    });
    const { as } = await seedMember(t, orgA, "viewer");
    const page = await as.query(api.resources.queries.paginateBlockVolumes, {
      orgId: orgA,
      paginationOpts: { numItems: 10_000, cursor: null },
    });
    expect(page.page.length).toBe(MAX_PAGE_SIZE);
    expect(page.isDone).toBe(false);
  });
});

describe("reads at scale, within Convex's limits", () => {
  // A volume the size of DigitalOcean's documented example: its region lists
  // 14 droplet sizes and the region's features (about 1.5-2 KB as JSON).
  const base = volumesSample.volumes[0];
  const realisticVolume = (id: string) => ({
    ...base,
    id,
    description: "Block store for the primary database cluster, replicated nightly to a second region.",
    region: {
      ...base.region,
      features: ["private_networking", "backups", "ipv6", "metadata", "install_agent", "storage", "image_transfer"],
      sizes: [
        "s-1vcpu-1gb", "s-1vcpu-2gb", "s-1vcpu-3gb", "s-2vcpu-2gb", "s-3vcpu-1gb", "s-2vcpu-4gb", "s-4vcpu-8gb",
        "s-6vcpu-16gb", "s-8vcpu-32gb", "s-12vcpu-48gb", "s-16vcpu-64gb", "s-20vcpu-96gb", "s-24vcpu-128gb",
        "s-32vcpu-192gb",
      ],
    },
    tags: ["aninterestingtag", "production", "database"],
  });

  async function seedVolumes(count: number, extra: Record<string, unknown> = {}) {
    const t = newTest({ limits: true });
    const orgId = await seedOrg(t);
    const dockId = await seedDock(t, orgId, "digitalocean", "token");
    for (let start = 0; start < count; start += 1000) {
      await t.run(async (ctx) => {
        for (let i = start; i < Math.min(count, start + 1000); i++) {
          const id = `vol-${String(i).padStart(6, "0")}`;
          await ctx.db.insert("blockVolumes", {
            orgId,
            dockId,
            provider: "digitalocean",
            providerResourceId: id,
            name: `volume-${id}`,
            status: "active",
            sizeGb: 100,
            region: "ams3",
            attachedToInstance: "318274655",
            attachedToInstanceLabel: "api-ams3-01",
            filesystemType: "ext4",
            fullApiData: { volume: { ...realisticVolume(id), ...extra } },
            updatedAt: 0,
          });
        }
      });
    }
    const { as } = await seedMember(t, orgId, "viewer");
    return { t, orgId, as };
  }

  test("the items are at least as large as the documented example (602 bytes of JSON)", () => {
    expect(JSON.stringify(realisticVolume("x")).length).toBeGreaterThanOrEqual(602);
  });

  test("an org whose volumes fit in one answer gets every one of them", async () => {
    const { orgId, as } = await seedVolumes(3000);
    const rows = await as.query(api.resources.queries.listBlockVolumes, { orgId });
    expect(rows.length).toBe(3000);
    expect(new Set(rows.map((r) => r.providerResourceId)).size).toBe(3000);
  });

  test("an org with more rows than one answer holds is refused with TOO_MANY_ROWS, never cut short", async () => {
    const { orgId, as } = await seedVolumes(LIST_MAX_ROWS + 1);
    await expect(as.query(api.resources.queries.listBlockVolumes, { orgId })).rejects.toThrow(/TOO_MANY_ROWS/);
  });

  test("rows of about 2 KB (a DigitalOcean droplet's size) are refused by bytes before Convex's read limit", async () => {
    // 5,000 rows of about 2 KB pass the byte bound well before the row bound.
    const { orgId, as } = await seedVolumes(5000, { notes: "n".repeat(1300) });
    expect(5000 * 2000).toBeGreaterThan(LIST_MAX_BYTES);
    const refused = as.query(api.resources.queries.listBlockVolumes, { orgId });
    await expect(refused).rejects.toThrow(/TOO_MANY_ROWS/);
    await expect(refused).rejects.toThrow(/paginateBlockVolumes/);
    // Without orgId the same rows are refused the same way.
    await expect(as.query(api.resources.queries.listBlockVolumes, {})).rejects.toThrow(/TOO_MANY_ROWS/);
  });

  test("the row bound stays under Convex's 8,192 array elements", () => {
    expect(LIST_MAX_ROWS).toBeLessThan(8192);
  });

  test("paging reaches every one of 10,000 realistic volumes, each page within the read limits", async () => {
    const { orgId, as } = await seedVolumes(10_000);
    const seen = new Set<string>();
    let cursor: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const page: { page: { providerResourceId: string }[]; isDone: boolean; continueCursor: string } =
        await as.query(api.resources.queries.paginateBlockVolumes, {
          orgId,
          paginationOpts: { numItems: MAX_PAGE_SIZE, cursor },
        });
      expect(page.page.length).toBeLessThanOrEqual(MAX_PAGE_SIZE);
      for (const row of page.page) seen.add(row.providerResourceId);
      if (page.isDone) break;
      cursor = page.continueCursor;
    }
    expect(seen.size).toBe(10_000);
  });
});
