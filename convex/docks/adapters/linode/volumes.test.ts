// Linode Block Storage volumes end to end: "sync dock" -> action -> emulator
// over HTTP (/v4/volumes, /v4/volumes/{id}, /v4/volumes/types) -> mutations
// -> blockVolumes rows, with their monthly cost.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { applyChanges, generateAccount, LINODE_VOLUME_TYPES } from "../../../../docks/emulator/accounts";
import type { Emulator } from "../../../../docks/emulator/server";
import { api } from "../../../_generated/api";
import { newTest, rowsOf, seedDock, seedMember, seedOrg, startTestEmulator, syncNow, type TestConvex } from "../../../test.setup";
import { linodeVolumeMonthlyCost, linodeVolumePrices } from "./adapter";

let emulator: Emulator;

beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

const VOLUMES = "/v4/volumes";
const TYPES = "/v4/volumes/types";
const PRICES = linodeVolumePrices(LINODE_VOLUME_TYPES);

type Item = Record<string, unknown>;

function volumes(): Item[] {
  return emulator.accounts.linode.volumes;
}

function setVolumes(items: Item[]) {
  emulator.setAccount("linode", { ...emulator.accounts.linode, volumes: items });
}

async function linodeDock(t: TestConvex = newTest()) {
  const orgId = await seedOrg(t);
  const { as } = await seedMember(t, orgId, "member");
  const dockId = await seedDock(t, orgId, "linode", emulator.accounts.linode.token);
  return { t, orgId, as, dockId };
}

function expectedCost(item: Item): number | undefined {
  return linodeVolumeMonthlyCost(item.size as number, item.region as string, PRICES);
}

describe("syncing a Linode dock's volumes", () => {
  test("brings every volume in as a blockVolumes row, attached ones naming their Linode, each with its monthly cost", async () => {
    const { t, as, dockId } = await linodeDock();
    const dock = await syncNow(t, as, dockId);
    expect(dock.lastSyncStatus).toBe("success");
    expect(dock.lastSyncStats?.blockVolumes).toMatchObject({ fetched: volumes().length, inserted: volumes().length, complete: true });

    const rows = await rowsOf(t, "blockVolumes", dockId);
    expect(rows.map((r) => r.providerResourceId).sort()).toEqual(volumes().map((v) => String(v.id)).sort());
    const byKey = new Map(rows.map((r) => [r.providerResourceId, r]));
    let attached = 0;
    for (const item of volumes()) {
      const row = byKey.get(String(item.id))!;
      expect(row).toMatchObject({ provider: "linode", name: item.label, sizeGb: item.size, region: item.region, blockType: item.hardware_type });
      expect(row.fullApiData.volume).toEqual(item);
      expect(row.monthlyCost).toBe(expectedCost(item));
      expect(row.monthlyCost).toEqual(expect.any(Number));
      if (item.linode_id !== null) {
        attached++;
        expect(row.attachedToInstance).toBe(String(item.linode_id));
        expect(row.attachedToInstanceLabel).toBe(item.linode_label);
      } else {
        expect(row.attachedToInstance).toBeUndefined();
      }
    }
    expect(attached).toBeGreaterThan(0);
    expect(attached).toBeLessThan(volumes().length);
    // The servers and buckets synced beside them.
    expect((await rowsOf(t, "servers", dockId)).length).toBe(emulator.accounts.linode.servers.length);
    expect((await rowsOf(t, "buckets", dockId)).length).toBe(emulator.accounts.linode.buckets.length);
    // The prices are asked for once per sync, not per volume or page.
    expect(emulator.countRequests({ provider: "linode", path: TYPES })).toBe(1);
  });

  test("a region with its own price costs that price per GB", async () => {
    const base = volumes()[0];
    setVolumes([
      { ...base, id: 1_001, region: "id-cgk", size: 250, linode_id: null, linode_label: null },
      { ...base, id: 1_002, region: "us-east", size: 250, linode_id: null, linode_label: null },
    ]);
    const { t, as, dockId } = await linodeDock();
    await syncNow(t, as, dockId);
    const cost = new Map((await rowsOf(t, "blockVolumes", dockId)).map((r) => [r.providerResourceId, r.monthlyCost]));
    expect(cost.get("1001")).toBe(30);
    expect(cost.get("1002")).toBe(25);
  });

  test("reads 1,100 volumes in the minimum three pages of 500", async () => {
    emulator.setAccount("linode", generateAccount("linode", { seed: 9, servers: 2, volumes: 1_100, buckets: 1, token: "l-token" }));
    const { t, as, dockId } = await linodeDock();
    const dock = await syncNow(t, as, dockId);
    expect(dock.lastSyncStatus).toBe("success");
    expect((await rowsOf(t, "blockVolumes", dockId)).length).toBe(1_100);
    const pages = emulator.requests.filter((r) => r.path === VOLUMES);
    expect(pages.map((r) => r.query.page).sort()).toEqual(["1", "2", "3"]);
    expect(pages.every((r) => r.query.page_size === "500")).toBe(true);
  });

  test("removes volumes the provider confirms gone (404 on GET /v4/volumes/{id}), detaches, resizes and adds", async () => {
    const { t, as, dockId } = await linodeDock();
    await syncNow(t, as, dockId);
    const before = volumes();
    emulator.setAccount("linode", applyChanges("linode", emulator.accounts.linode, { seed: 4, remove: 2, detach: 1, resize: 2, add: 3 }));
    emulator.resetRequests();
    const dock = await syncNow(t, as, dockId);

    expect(dock.lastSyncStatus).toBe("success");
    expect(dock.lastSyncStats?.blockVolumes).toMatchObject({ inserted: 3, deleted: 2, lookups: 2, complete: true });
    const rows = await rowsOf(t, "blockVolumes", dockId);
    expect(rows.map((r) => r.providerResourceId).sort()).toEqual(volumes().map((v) => String(v.id)).sort());
    // Each removal was confirmed with the single-item GET, which answered 404.
    const now = new Set(volumes().map((v) => v.id));
    for (const gone of before.filter((v) => !now.has(v.id))) {
      expect(emulator.countRequests({ provider: "linode", path: `${VOLUMES}/${String(gone.id)}`, status: 404 })).toBe(1);
    }
    const byKey = new Map(rows.map((r) => [r.providerResourceId, r]));
    const wasAttached = new Map(before.map((v) => [v.id, v.linode_id]));
    const detached = volumes().filter((v) => v.linode_id === null && wasAttached.get(v.id) != null);
    expect(detached).toHaveLength(1);
    const row = byKey.get(String(detached[0].id))!;
    expect(row.attachedToInstance).toBeUndefined();
    expect(row.attachedToInstanceLabel).toBeUndefined();
    for (const item of volumes()) expect(byKey.get(String(item.id))?.monthlyCost).toBe(expectedCost(item));
  });
});

describe("Linode volume prices", () => {
  test.each([
    ["fail with 500 every time", { kind: "500" as const, times: Infinity }],
    ["answer with malformed JSON", { kind: "malformed" as const, times: Infinity }],
    ["are refused", { kind: "401" as const, times: Infinity }],
  ])("that %s leave the cost unknown and cost no volume its row", async (_label, fault) => {
    emulator.addFault({ provider: "linode", path: TYPES, ...fault });
    const { t, as, dockId } = await linodeDock();
    const dock = await syncNow(t, as, dockId);
    expect(dock.lastSyncStatus).toBe("success");
    expect(dock.lastSyncStats?.blockVolumes).toMatchObject({ fetched: volumes().length, complete: true });
    const rows = await rowsOf(t, "blockVolumes", dockId);
    expect(rows.length).toBe(volumes().length);
    for (const row of rows) expect(row.monthlyCost).toBeUndefined();
    // A failing price list is asked twice at most (the lookup client's attempts), not once per volume.
    expect(emulator.countRequests({ provider: "linode", path: TYPES })).toBeLessThanOrEqual(2);
  });

  test("a cost known once stays as it was while the prices cannot be read, and a new volume's is unknown", async () => {
    const { t, as, dockId } = await linodeDock();
    await syncNow(t, as, dockId);
    const before = new Map((await rowsOf(t, "blockVolumes", dockId)).map((r) => [r.providerResourceId, r]));
    emulator.addFault({ provider: "linode", path: TYPES, kind: "503", times: Infinity });
    // A new volume arrives while the price list is down, and one is resized.
    const account = emulator.accounts.linode;
    const added = { ...account.volumes[0], id: 77_777_777, label: "added-while-down", linode_id: null, linode_label: null };
    const resized: Record<string, unknown> = { ...account.volumes[1], size: (account.volumes[1].size as number) + 10 };
    emulator.setAccount("linode", { ...account, volumes: [resized, ...account.volumes.slice(2), account.volumes[0], added] });
    const dock = await syncNow(t, as, dockId);
    expect(dock.lastSyncStats?.blockVolumes).toMatchObject({ complete: true, inserted: 1 });
    const during = await rowsOf(t, "blockVolumes", dockId);
    for (const row of during) {
      if (row.providerResourceId === "77777777") expect(row.monthlyCost).toBeUndefined();
      else expect(row.monthlyCost, row.name).toBe(before.get(row.providerResourceId)?.monthlyCost);
    }
    // The resize itself is stored; only the cost waits for the prices.
    expect(during.find((r) => r.providerResourceId === String(resized.id))?.sizeGb).toBe(resized.size);
    emulator.clearFaults();
    await syncNow(t, as, dockId);
    const rows = await rowsOf(t, "blockVolumes", dockId);
    for (const item of volumes()) {
      expect(rows.find((r) => r.providerResourceId === String(item.id))?.monthlyCost).toBe(expectedCost(item));
    }
  });
});

describe("a Linode token without the volumes scope", () => {
  test("gets ACCESS_DENIED on blockVolumes only; servers and buckets sync, and the key is not called refused", async () => {
    emulator.addFault({ provider: "linode", path: VOLUMES, kind: "no-scope", times: Infinity });
    const { t, as, dockId } = await linodeDock();
    const dock = await syncNow(t, as, dockId);

    expect(dock.lastSyncStatus).toBe("partial");
    expect(dock.lastSyncErrorCode).toBe("ACCESS_DENIED");
    expect(dock.lastSyncStats?.blockVolumes).toMatchObject({ fetched: 0, complete: false, errorCode: "ACCESS_DENIED" });
    expect(dock.lastSyncStats?.blockVolumes?.error).toBe(
      "Linode GET /v4/volumes failed: HTTP 401: Your OAuth token is not authorized to use this endpoint.",
    );
    expect(dock.lastSyncStats?.servers).toMatchObject({ complete: true });
    expect(dock.lastSyncStats?.servers?.errorCode).toBeUndefined();
    expect(dock.lastSyncStats?.buckets).toMatchObject({ complete: true });
    expect(dock.lastSyncStats?.buckets?.errorCode).toBeUndefined();
    expect((await rowsOf(t, "servers", dockId)).length).toBe(emulator.accounts.linode.servers.length);
    expect((await rowsOf(t, "buckets", dockId)).length).toBe(emulator.accounts.linode.buckets.length);
    expect(await rowsOf(t, "blockVolumes", dockId)).toEqual([]);
    // A refusal is not retried.
    expect(emulator.countRequests({ provider: "linode", path: VOLUMES })).toBe(1);
    // Not a failed sync: no backoff.
    expect(dock.consecutiveFailures).toBe(0);
  });

  test("keeps the volumes an earlier sync stored, and viewers read the generic access text", async () => {
    const { t, orgId, as, dockId } = await linodeDock();
    await syncNow(t, as, dockId);
    const before = await rowsOf(t, "blockVolumes", dockId);
    emulator.addFault({ provider: "linode", path: VOLUMES, kind: "no-scope", times: Infinity });
    await syncNow(t, as, dockId);
    expect(await rowsOf(t, "blockVolumes", dockId)).toEqual(before);
    const { as: viewer } = await seedMember(t, orgId, "viewer");
    const [shown] = await viewer.query(api.docks.queries.listDocks, { orgId });
    expect(shown.lastSyncErrorCode).toBe("ACCESS_DENIED");
    expect(shown.lastSyncError).toBe("The dock's API key may not read this resource type.");
  });

  test("a token Linode refuses outright is still INVALID_CREDENTIALS", async () => {
    emulator.addFault({ provider: "linode", path: VOLUMES, kind: "401", times: Infinity });
    const { t, as, dockId } = await linodeDock();
    const dock = await syncNow(t, as, dockId);
    expect(dock.lastSyncStats?.blockVolumes?.errorCode).toBe("INVALID_CREDENTIALS");
    expect(dock.lastSyncErrorCode).toBe("INVALID_CREDENTIALS");
  });
});

describe.each(["viewer", "member", "admin", "owner"] as const)("synced Linode volumes read by a %s", (role) => {
  test("are the org's own rows with their cost, by provider and dock too; another org's user reads none", async () => {
    const { t, orgId, as, dockId } = await linodeDock();
    await syncNow(t, as, dockId);
    const { as: reader } = await seedMember(t, orgId, role);
    const keys = volumes().map((v) => String(v.id)).sort();

    const listed = await reader.query(api.resources.queries.listBlockVolumes, { orgId });
    expect(listed.map((r) => r.providerResourceId).sort()).toEqual(keys);
    expect(listed.every((r) => r.provider === "linode" && r.orgId === orgId && typeof r.monthlyCost === "number")).toBe(true);
    const paged = await reader.query(api.resources.queries.paginateBlockVolumes, {
      orgId,
      dockId,
      provider: "linode",
      paginationOpts: { cursor: null, numItems: 100 },
    });
    expect(paged.page.map((r) => r.providerResourceId).sort()).toEqual(keys);
    const otherProvider = await reader.query(api.resources.queries.paginateBlockVolumes, {
      orgId,
      provider: "vultr",
      paginationOpts: { cursor: null, numItems: 100 },
    });
    expect(otherProvider.page).toEqual([]);

    const otherOrg = await seedOrg(t, "Other");
    const { as: outsider } = await seedMember(t, otherOrg, role);
    expect(await outsider.query(api.resources.queries.listBlockVolumes, { orgId })).toEqual([]);
    expect(await outsider.query(api.resources.queries.listBlockVolumes, {})).toEqual([]);
    const peek = await outsider.query(api.resources.queries.paginateBlockVolumes, {
      orgId,
      dockId,
      paginationOpts: { cursor: null, numItems: 100 },
    });
    expect(peek.page).toEqual([]);
  });
});
