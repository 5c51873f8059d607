// A failed sync tells the dashboard what to do through a code, and tells it
// in the provider's words only to members and above: a provider's answer can
// echo what it was sent, and viewers need no more than the code's meaning.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Emulator, FaultKind } from "../../docks/emulator/server";
import { api } from "../_generated/api";
import { newTest, seedDock, seedMember, seedOrg, startTestEmulator, syncNow } from "../test.setup";
import { PROVIDERS, type Provider, type SyncErrorCode } from "../validators";
import { ERROR_TEXT_FOR_VIEWERS } from "./lease";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
  process.env.SYNC_MAX_ATTEMPTS = "2";
});
afterEach(async () => {
  delete process.env.SYNC_MAX_ATTEMPTS;
  await emulator.close();
});

const LIST_PATHS: Record<Provider, string[]> = {
  vultr: ["/v2/instances", "/v2/blocks", "/v2/object-storage"],
  digitalocean: ["/v2/droplets", "/v2/volumes"],
  linode: ["/v4/linode/instances", "/v4/volumes", "/v4/object-storage/buckets"],
};

const CASES: [FaultKind, SyncErrorCode][] = [
  ["401", "INVALID_CREDENTIALS"],
  ["429", "RATE_LIMITED"],
  ["500", "PROVIDER_ERROR"],
];

describe.each(PROVIDERS)("a failing %s sync", (provider) => {
  test.each(CASES)("HTTP %s on every listing is recorded with the code %s, on the dock and per type", async (kind, code) => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: member } = await seedMember(t, orgId, "member");
    const dockId = await seedDock(t, orgId, provider, emulator.accounts[provider].token);
    for (const path of LIST_PATHS[provider]) {
      emulator.addFault({ provider, path, kind, times: Infinity, retryAfterSeconds: 0 });
    }
    const dock = await syncNow(t, member, dockId);
    expect(dock.lastSyncStatus).toBe("error");
    expect(dock.lastSyncErrorCode).toBe(code);
    for (const stats of Object.values(dock.lastSyncStats ?? {})) {
      expect(stats).toMatchObject({ errorCode: code, complete: false });
    }
  });

  test("a viewer reads the code and a fixed text; a member reads the provider's own words", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: member } = await seedMember(t, orgId, "member");
    const { as: viewer } = await seedMember(t, orgId, "viewer");
    const dockId = await seedDock(t, orgId, provider, emulator.accounts[provider].token);
    for (const path of LIST_PATHS[provider]) emulator.addFault({ provider, path, kind: "401", times: Infinity });
    await syncNow(t, member, dockId);

    const [asMember] = await member.query(api.docks.queries.listDocks, { orgId });
    expect(asMember.lastSyncError).toMatch(/HTTP 401/);
    const [asViewer] = await viewer.query(api.docks.queries.listDocks, { orgId });
    expect(asViewer.lastSyncErrorCode).toBe("INVALID_CREDENTIALS");
    expect(asViewer.lastSyncError).toBe(ERROR_TEXT_FOR_VIEWERS.INVALID_CREDENTIALS);
    for (const stats of Object.values(asViewer.lastSyncStats ?? {})) {
      expect(stats?.error).toBe(ERROR_TEXT_FOR_VIEWERS.INVALID_CREDENTIALS);
    }
    expect(JSON.stringify(asViewer)).not.toMatch(/HTTP 401/);
  });

  test("a sync that succeeds carries no error code", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "member");
    const dockId = await seedDock(t, orgId, provider, emulator.accounts[provider].token);
    for (const path of LIST_PATHS[provider]) emulator.addFault({ provider, path, kind: "401", times: Infinity });
    expect((await syncNow(t, as, dockId)).lastSyncErrorCode).toBe("INVALID_CREDENTIALS");
    emulator.clearFaults();
    const healed = await syncNow(t, as, dockId);
    expect(healed.lastSyncStatus).toBe("success");
    expect(healed.lastSyncErrorCode).toBeUndefined();
  });
});
