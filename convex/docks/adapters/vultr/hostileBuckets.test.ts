// A hostile or changed Vultr answer that carries a subscription's S3 keys
// somewhere other than the two field names the adapter drops.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Emulator } from "../../../../docks/emulator/server";
import { api } from "../../../_generated/api";
import { newTest, seedDock, seedMember, seedOrg, startTestEmulator, syncNow } from "../../../test.setup";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

describe("S3 keys outside s3_access_key / s3_secret_key", () => {
  test("a subscription that repeats its keys in a nested field (as a renamed API field would) stores neither: a viewer sees no S3 secret", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: member } = await seedMember(t, orgId, "member");
    const { as: viewer } = await seedMember(t, orgId, "viewer");
    const account = emulator.accounts.vultr;
    const secrets = account.objectStorages!.map((s) => String(s.s3_secret_key));
    emulator.setAccount("vultr", {
      ...account,
      objectStorages: account.objectStorages!.map((s) => ({
        ...s,
        s3_credentials: { access_key: s.s3_access_key, secret_key: s.s3_secret_key },
      })),
    });
    const dockId = await seedDock(t, orgId, "vultr", account.token);
    await syncNow(t, member, dockId);
    const seen = JSON.stringify(await viewer.query(api.resources.queries.listBuckets, { orgId }));
    expect(seen.length).toBeGreaterThan(100);
    expect(secrets.filter((s) => seen.includes(s))).toEqual([]);
  });
});
