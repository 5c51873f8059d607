// A provider item whose id carries the dock's token (a provider or a proxy
// reflecting the Authorization header): such an id can be neither stored nor
// matched again once redacted, so the item is skipped and the dock says why;
// nothing else churns.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { generateAccount } from "../../docks/emulator/accounts";
import type { Emulator } from "../../docks/emulator/server";
import { newTest, rowsOf, seedDock, seedMember, seedOrg, startTestEmulator, syncNow } from "../test.setup";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
  process.env.SYNC_BUTTON_COOLDOWN_MS = "1";
});
afterEach(() => {
  delete process.env.SYNC_BUTTON_COOLDOWN_MS;
  return emulator.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("an item id that carries the dock's token", () => {
  test("is skipped with a reason, never stored, and a re-sync changes nothing", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: member } = await seedMember(t, orgId, "member");
    const account = emulator.accounts.digitalocean;
    const token = account.token;
    const [a, b, ...rest] = account.volumes;
    emulator.setAccount("digitalocean", {
      ...account,
      volumes: [{ ...a, id: `vol-${token}` }, { ...b, id: `vol-${token.slice(0, 20)}` }, ...rest],
    });
    const dockId = await seedDock(t, orgId, "digitalocean", token);
    const dock = await syncNow(t, member, dockId);
    expect(dock.lastSyncStatus).toBe("partial");
    expect(dock.lastSyncStats?.blockVolumes).toMatchObject({ skipped: 2, errorCode: "ITEMS_SKIPPED" });
    expect(dock.lastSyncError).toMatch(/holds the dock's API token/);
    const rows = await rowsOf(t, "blockVolumes", dockId);
    expect(rows.length).toBe(rest.length);
    expect(JSON.stringify(rows)).not.toContain(token.slice(0, 12));
    await sleep(5);
    const again = await syncNow(t, member, dockId);
    expect(again.lastSyncStats?.blockVolumes).toMatchObject({ inserted: 0, updated: 0, deleted: 0 });
    expect((await rowsOf(t, "blockVolumes", dockId)).map((r) => r._id)).toEqual(rows.map((r) => r._id));
  });

  test("in a listing of several chunks, the row count stays what the provider can be stored as, sync after sync", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: member } = await seedMember(t, orgId, "member");
    const account = generateAccount("digitalocean", { seed: 7, servers: 2, volumes: 600 });
    const token = account.token;
    const volumes = [...account.volumes];
    volumes[0] = { ...volumes[0], id: `vol-${token}` };
    volumes[599] = { ...volumes[599], id: `vol-${token.slice(0, 20)}` };
    emulator.setAccount("digitalocean", { ...account, volumes });
    const dockId = await seedDock(t, orgId, "digitalocean", token);
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      await syncNow(t, member, dockId);
      counts.push((await rowsOf(t, "blockVolumes", dockId)).length);
      await sleep(5);
    }
    expect(counts).toEqual([598, 598, 598, 598]);
  });
});
