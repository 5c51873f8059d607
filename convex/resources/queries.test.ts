import { describe, expect, test } from "vitest";
import { api } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { newTest, seedDock, seedMember, seedOrg, type TestConvex } from "../test.setup";

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
