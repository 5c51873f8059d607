// A careless admin (or member): rotating keys during a sync, pressing sync
// again and again.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Emulator } from "../../docks/emulator/server";
import { api } from "../_generated/api";
import { newTest, seedDock, seedMember, seedOrg, startTestEmulator, syncNow } from "../test.setup";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a careless admin", () => {
  test("a key rotated while a sync runs: the old key's refusal is not the dock's last word, a sync on the new key follows", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: admin } = await seedMember(t, orgId, "admin");
    const account = emulator.accounts.vultr;
    const dockId = await seedDock(t, orgId, "vultr", account.token, { accountId: `email:${account.owner.email.toLowerCase()}` });
    // The instances page is slow; while it is answered the admin revokes the
    // old key at Vultr and rotates the dock to the new one.
    emulator.addFault({ provider: "vultr", path: "/v2/instances", kind: "timeout", delayMs: 800 });
    const newKey = "N".repeat(36);
    const rotate = (async () => {
      while (!emulator.requests.some((r) => r.path === "/v2/instances")) await sleep(2);
      emulator.setAccount("vultr", { ...emulator.accounts.vultr, token: newKey });
      await admin.action(api.docks.actions.rotateDockKey, { dockId, apiKey: newKey });
    })();
    const [dock] = await Promise.all([syncNow(t, admin, dockId), rotate]);
    await t.finishAllScheduledFunctions(() => undefined);
    const now = (await t.run((ctx) => ctx.db.get("docks", dockId)))!;
    expect(dock.lastSyncAt).toBeDefined();
    // The key in use is the new one, which works: the dock must not tell the
    // admin to rotate it again.
    expect(now.lastSyncErrorCode).not.toBe("INVALID_CREDENTIALS");
  });

  test("a member pressing sync again and again within a minute gets SYNC_TOO_SOON, and the provider sees no more listings", async () => {
    const t = newTest();
    process.env.SYNC_BUTTON_COOLDOWN_MS = "60000";
    const orgId = await seedOrg(t);
    const { as: member } = await seedMember(t, orgId, "member");
    const dockId = await seedDock(t, orgId, "digitalocean", emulator.accounts.digitalocean.token);
    await syncNow(t, member, dockId);
    emulator.resetRequests();
    for (let i = 0; i < 5; i++) {
      await expect(syncNow(t, member, dockId)).rejects.toThrow(/SYNC_TOO_SOON/);
    }
    process.env.SYNC_BUTTON_COOLDOWN_MS = "1";
    // Five presses within seconds: at most one more sync's worth of listing
    // requests (droplets and volumes) should reach the provider.
    expect(emulator.countRequests({ path: "/v2/volumes" })).toBeLessThanOrEqual(1);
  });
});
