// Rows the listing did not return: what the single-item confirmations cost
// the provider's rate limit, and rows past the per-sync confirmation budget.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Emulator } from "../../docks/emulator/server";
import { newTest, rowsOf, seedDock, seedMember, seedOrg, startTestEmulator, syncNow } from "../test.setup";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

type Item = Record<string, unknown>;

function volumes(n: number): Item[] {
  const like = emulator.accounts.digitalocean.volumes[0];
  return Array.from({ length: n }, (_, i) => ({ ...like, id: `vol-${String(i).padStart(4, "0")}-aaaa`, droplet_ids: [] }));
}

async function doDock() {
  const t = newTest();
  const orgId = await seedOrg(t);
  const { as } = await seedMember(t, orgId, "member");
  const dockId = await seedDock(t, orgId, "digitalocean", emulator.accounts.digitalocean.token);
  return { t, orgId, as, dockId };
}

describe("rows a complete listing did not return", () => {
  test("confirming 150 unlisted volumes against a failing single-item GET stops after a few requests", async () => {
    const { t, as, dockId } = await doDock();
    const all = volumes(150);
    emulator.setAccount("digitalocean", { ...emulator.accounts.digitalocean, volumes: all });
    await syncNow(t, as, dockId);
    // The volumes are gone from the listing; their single GET answers 503.
    emulator.setAccount("digitalocean", { ...emulator.accounts.digitalocean, volumes: [] });
    for (const v of all) {
      emulator.addFault({ provider: "digitalocean", path: `/v2/volumes/${String(v.id)}`, kind: "503", times: Infinity });
    }
    emulator.resetRequests();
    await syncNow(t, as, dockId);
    const lookups = emulator.requests.filter((r) => r.path.startsWith("/v2/volumes/")).length;
    // "At most 100 rows per type and sync are confirmed this way (each costs one request)."
    expect(lookups).toBeLessThanOrEqual(100);
  });

  test("volumes the listing leaves out but the provider's single GET still answers keep their rows and project links, however many", async () => {
    const { t, orgId, as, dockId } = await doDock();
    const all = volumes(150);
    emulator.setAccount("digitalocean", { ...emulator.accounts.digitalocean, volumes: all });
    await syncNow(t, as, dockId);
    const rows = await rowsOf(t, "blockVolumes", dockId);
    const last = rows.find((r) => r.providerResourceId === "vol-0149-aaaa")!;
    const link = await t.run(async (ctx) => {
      const projectId = await ctx.db.insert("projects", { orgId, name: "Production" });
      return await ctx.db.insert("projectResources", { orgId, projectId, resourceTable: "blockVolumes", resourceId: last._id });
    });

    // The listing omits 110 volumes (consistently: its total agrees) while
    // GET /v2/volumes/{id} still answers each of them.
    const shown = all.slice(0, 40);
    Object.defineProperty(shown, "find", { value: all.find.bind(all) });
    emulator.setAccount("digitalocean", { ...emulator.accounts.digitalocean, volumes: shown });
    await syncNow(t, as, dockId);
    await syncNow(t, as, dockId);

    const after = await rowsOf(t, "blockVolumes", dockId);
    expect(after.length).toBe(150);
    expect(await t.run((ctx) => ctx.db.get("projectResources", link))).not.toBeNull();
  });
});
