// Volume rows name their droplet from the dock's server rows as they stand
// after the servers synced: a droplet the listing skipped as malformed keeps
// its row and name, and so do the labels of the volumes attached to it.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
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

describe("a DigitalOcean volume attached to a droplet", () => {
  test("keeps its attachment label when its droplet's item is skipped as malformed, as the droplet's row keeps its name", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: member } = await seedMember(t, orgId, "member");
    const account = emulator.accounts.digitalocean;
    const dockId = await seedDock(t, orgId, "digitalocean", account.token);
    await syncNow(t, member, dockId);
    const attached = (await rowsOf(t, "blockVolumes", dockId)).find((r) => r.attachedToInstance !== undefined)!;
    expect(attached.attachedToInstanceLabel).toBeTypeOf("string");
    const dropletKey = attached.attachedToInstance!;

    // The same droplet, now listed with an unreadable region.
    emulator.setAccount("digitalocean", {
      ...account,
      servers: account.servers.map((s) => (String(s.id) === dropletKey ? { ...s, region: null } : s)),
    });
    await new Promise((r) => setTimeout(r, 5));
    const dock = await syncNow(t, member, dockId);
    expect(dock.lastSyncStats?.servers).toMatchObject({ skipped: 1, deleted: 0 });

    const server = (await rowsOf(t, "servers", dockId)).find((s) => s.providerResourceId === dropletKey)!;
    const volume = (await rowsOf(t, "blockVolumes", dockId)).find((r) => r._id === attached._id)!;
    expect(server.name).toBe(attached.attachedToInstanceLabel);
    expect(volume.attachedToInstanceLabel).toBe(server.name);
  });
});
