// Vultr Object Storage buckets: how a bucket becomes a row, and a whole sync
// against the emulator through Vultr's bucket endpoint and through the S3
// ListBuckets fallback.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { applyChanges, generateAccount } from "../../../../docks/emulator/accounts";
import { startEmulator, type Emulator } from "../../../../docks/emulator/server";
import { api } from "../../../_generated/api";
import { newTest, rowsOf, seedDock, seedMember, seedOrg, syncNow, useEmulator } from "../../../test.setup";
import { ProviderClient } from "../../http";
import { parseVultrBucket, VULTR_OBJECT_STORAGE_SECRETS, vultrAdapter, vultrBucketKey } from "./adapter";
import { isVultrS3Host, listBucketsUrl, parseListBuckets, parseS3Error, parseXml, signV4 } from "./s3";

const SUBSCRIPTION = {
  id: "5f1c0de0-aaaa-4bbb-8ccc-0123456789ab",
  date_created: "2024-02-03T04:05:06+00:00",
  cluster_id: 2,
  region: "ewr",
  label: "media",
  status: "active",
  s3_hostname: "ewr1.vultrobjects.com",
};

describe("a Vultr bucket becomes a row", () => {
  test("keyed by its subscription and name, in the subscription's region, with size, objects and cost unknown", () => {
    const parsed = parseVultrBucket({
      bucket: { name: "photos", date_created: "2024-03-01T00:00:00+00:00" },
      objectStorage: SUBSCRIPTION,
    });
    expect(parsed).toEqual({
      ok: true,
      fields: {
        providerResourceId: `${SUBSCRIPTION.id}/photos`,
        name: "photos",
        region: "ewr",
        cluster: "2",
        hostname: "photos.ewr1.vultrobjects.com",
        s3Endpoint: "ewr1.vultrobjects.com",
        status: "active",
        sizeBytes: undefined,
        objectCount: undefined,
        monthlyCost: undefined,
        fullApiData: {
          bucket: { name: "photos", date_created: "2024-03-01T00:00:00+00:00" },
          objectStorage: SUBSCRIPTION,
        },
      },
    });
    expect(vultrBucketKey(SUBSCRIPTION.id, "photos")).toBe(`${SUBSCRIPTION.id}/photos`);
  });

  test("the same name in two subscriptions makes two keys", () => {
    const a = parseVultrBucket({ bucket: { name: "logs" }, objectStorage: SUBSCRIPTION });
    const b = parseVultrBucket({ bucket: { name: "logs" }, objectStorage: { ...SUBSCRIPTION, id: "other-sub", cluster_id: 4 } });
    expect(a.ok && b.ok && a.fields.providerResourceId !== b.fields.providerResourceId).toBe(true);
  });

  test("a subscription's S3 keys never reach the row, even when handed in", () => {
    const parsed = parseVultrBucket({
      bucket: { name: "photos" },
      objectStorage: { ...SUBSCRIPTION, s3_access_key: "AKVISIBLEKEY", s3_secret_key: "SECRETSECRETSECRET" },
    });
    const stored = JSON.stringify(parsed);
    for (const field of VULTR_OBJECT_STORAGE_SECRETS) expect(stored).not.toContain(field);
    expect(stored).not.toContain("SECRETSECRETSECRET");
    expect(stored).not.toContain("AKVISIBLEKEY");
  });

  test.each([
    ["no name", { bucket: {}, objectStorage: SUBSCRIPTION }, /name is/],
    ["a numeric name", { bucket: { name: 7 }, objectStorage: SUBSCRIPTION }, /name is a number/],
    ["a subscription without id", { bucket: { name: "x" }, objectStorage: { region: "ewr" } }, /id is/],
    ["a subscription without region", { bucket: { name: "x" }, objectStorage: { id: "s" } }, /region is/],
    ["a subscription whose buckets could not be asked for", { bucket: undefined, objectStorage: { region: "ewr" } }, /id is|could not be asked/],
  ])("a bucket with %s is skipped with the reason", (_label, item, reason) => {
    const parsed = parseVultrBucket(item);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(reason);
  });
});

describe("S3 signing and answers", () => {
  // AWS's published Signature Version 4 example (IAM ListUsers, 2015-08-30).
  test("signs AWS's documented example request to its documented signature", async () => {
    const authorization = await signV4({
      method: "GET",
      url: new URL("https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08"),
      headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8", "x-amz-date": "20150830T123600Z" },
      payloadHash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      accessKey: "AKIDEXAMPLE",
      secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      region: "us-east-1",
      service: "iam",
      amzDate: "20150830T123600Z",
    });
    expect(authorization).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, " +
        "SignedHeaders=content-type;host;x-amz-date, " +
        "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
    );
  });

  test("reads ListAllMyBucketsResult with entities, comments and a namespace", () => {
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?>\n<!-- listing -->' +
      '<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>o</ID></Owner>' +
      "<Buckets><Bucket><Name>a&amp;b</Name><CreationDate>2024-01-01T00:00:00.000Z</CreationDate></Bucket>" +
      "<Bucket><Name>c&#x41;&#66;</Name><CreationDate/></Bucket></Buckets></ListAllMyBucketsResult>";
    expect(parseListBuckets(xml)).toEqual({
      buckets: [
        { name: "a&b", date_created: "2024-01-01T00:00:00.000Z" },
        { name: "cAB", date_created: "" },
      ],
      truncated: false,
    });
  });

  test("an empty listing has no buckets; a truncated one says so", () => {
    expect(parseListBuckets("<ListAllMyBucketsResult><Buckets/></ListAllMyBucketsResult>").buckets).toEqual([]);
    const paged = "<ListAllMyBucketsResult><Buckets/><ContinuationToken>t</ContinuationToken></ListAllMyBucketsResult>";
    expect(parseListBuckets(paged).truncated).toBe(true);
  });

  test.each([
    ["a DTD", '<!DOCTYPE x [<!ENTITY e "boom">]><ListAllMyBucketsResult/>'],
    ["an unknown entity", "<ListAllMyBucketsResult><Buckets><Bucket><Name>&e;</Name></Bucket></Buckets></ListAllMyBucketsResult>"],
    ["a mismatched tag", "<ListAllMyBucketsResult><Buckets></Bucket></ListAllMyBucketsResult>"],
    ["text after the root", "<ListAllMyBucketsResult/>trailing"],
    ["another document", "<Error><Code>x</Code></Error>"],
    ["a bucket without a name", "<ListAllMyBucketsResult><Buckets><Bucket/></Buckets></ListAllMyBucketsResult>"],
    ["JSON", '{"buckets":[]}'],
  ])("refuses %s", (_label, xml) => {
    expect(() => parseListBuckets(xml)).toThrow();
  });

  test("reads S3's error code and message, and nothing from another body", () => {
    const xml = "<Error><Code>SignatureDoesNotMatch</Code><Message>no &lt;match&gt;</Message><AWSAccessKeyId>AK</AWSAccessKeyId></Error>";
    expect(parseS3Error(xml)).toEqual({ code: "SignatureDoesNotMatch", message: "no <match>" });
    expect(parseS3Error("<html>proxy</html>")).toBeNull();
    expect(parseS3Error("not xml")).toBeNull();
  });

  test("a deeply nested document is refused without exhausting the stack", () => {
    expect(() => parseXml("<a>".repeat(10_000) + "</a>".repeat(10_000))).toThrow(/nested too deeply/);
  });

  test.each([
    ["ewr1.vultrobjects.com", true],
    ["sjc1.vultrobjects.com", true],
    ["evil.example.com", false],
    ["ewr1.vultrobjects.com.evil.example", false],
    ["127.0.0.1", false],
    ["ewr1.vultrobjects.com:8443", false],
    ["ewr1.vultrobjects.com/x", false],
    ["x.y.vultrobjects.com", false],
    ["", false],
  ])("%s is a Vultr S3 host: %s", (host, ok) => {
    expect(isVultrS3Host(host)).toBe(ok);
  });

  test("requests go to https://<host>/ unless the emulator's override is set", () => {
    const saved = process.env.VULTR_S3_URL;
    try {
      delete process.env.VULTR_S3_URL;
      expect(listBucketsUrl("ewr1.vultrobjects.com").href).toBe("https://ewr1.vultrobjects.com/");
      process.env.VULTR_S3_URL = "http://127.0.0.1:9/vultr-s3/";
      expect(listBucketsUrl("ewr1.vultrobjects.com").href).toBe("http://127.0.0.1:9/vultr-s3/ewr1.vultrobjects.com/");
    } finally {
      if (saved === undefined) delete process.env.VULTR_S3_URL;
      else process.env.VULTR_S3_URL = saved;
    }
  });
});

// ---------------------------------------------------------------------------
// Whole syncs

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startEmulator({
    accounts: { vultr: generateAccount("vultr", { seed: 7, servers: 2, volumes: 3, buckets: 40, objectStorages: 3 }) },
  });
  useEmulator(emulator);
});
afterEach(() => emulator.close());

const S3 = (r: { path: string }) => r.path.startsWith("/s3/");

async function vultrDock() {
  const t = newTest();
  const orgId = await seedOrg(t);
  const { as } = await seedMember(t, orgId, "member");
  const dockId = await seedDock(t, orgId, "vultr", emulator.accounts.vultr.token);
  return { t, orgId, as, dockId };
}

function expectedKeys(): string[] {
  return emulator.accounts.vultr.buckets.map((b) => `${String(b.object_storage_id)}/${String(b.name)}`).sort();
}

describe.each(["available", "missing"] as const)("a Vultr dock whose bucket endpoint is %s", (mode) => {
  beforeEach(() => {
    emulator.vultrBucketEndpoint = mode;
  });

  test("gets one row per bucket of every subscription, names shared across clusters included", async () => {
    const { t, as, dockId } = await vultrDock();
    const synced = await syncNow(t, as, dockId);
    expect(synced.lastSyncStatus).toBe("success");
    expect(synced.lastSyncStats?.buckets).toMatchObject({ fetched: 40, inserted: 40, skipped: 0, complete: true });
    const rows = await rowsOf(t, "buckets", dockId);
    expect(rows.map((r) => r.providerResourceId).sort()).toEqual(expectedKeys());
    const names = rows.map((r) => r.name);
    expect(new Set(names).size).toBeLessThan(names.length);
    for (const row of rows) {
      expect(row.sizeBytes).toBeUndefined();
      expect(row.objectCount).toBeUndefined();
      expect(row.monthlyCost).toBeUndefined();
      expect(row.s3Endpoint).toMatch(/^[a-z]+1\.vultrobjects\.com$/);
      expect(JSON.stringify(row.fullApiData)).not.toMatch(/s3_(access|secret)_key/);
    }
    const s3Requests = emulator.requests.filter(S3);
    if (mode === "available") expect(s3Requests).toEqual([]);
    else expect(s3Requests.map((r) => r.status)).toEqual([200, 200, 200]);
  });

  test("a re-sync writes nothing; removed buckets and a removed subscription lose their rows once Vultr confirms", async () => {
    const { t, as, dockId } = await vultrDock();
    expect((await syncNow(t, as, dockId)).lastSyncStatus).toBe("success");
    const again = await syncNow(t, as, dockId);
    expect(again.lastSyncStats?.buckets).toMatchObject({ inserted: 0, updated: 0, deleted: 0, unchanged: 40 });

    emulator.setAccount(
      "vultr",
      applyChanges("vultr", emulator.accounts.vultr, {
        seed: 3,
        vultrObjectStorage: { removeBuckets: 4, removeSubscriptions: 1, addBuckets: 5, addSubscriptions: 1 },
      }),
    );
    const changed = await syncNow(t, as, dockId);
    expect(changed.lastSyncStatus).toBe("success");
    const rows = await rowsOf(t, "buckets", dockId);
    expect(rows.map((r) => r.providerResourceId).sort()).toEqual(expectedKeys());
    expect(changed.lastSyncStats?.buckets?.deleted).toBe(40 - (expectedKeys().length - 5));
    expect(changed.lastSyncStats?.buckets?.missing ?? 0).toBe(0);
  });
});

describe.each(["available", "missing"] as const)("confirming a Vultr bucket gone (bucket endpoint %s)", (mode) => {
  beforeEach(() => {
    emulator.vultrBucketEndpoint = mode;
  });
  const lookup = (key: string) =>
    vultrAdapter.lookup.buckets!(new ProviderClient({ provider: "vultr", token: emulator.accounts.vultr.token, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 } }), key);

  test("a listed bucket is there; a name its subscription does not list, or a subscription Vultr does not know, is gone", async () => {
    const [bucket] = emulator.accounts.vultr.buckets;
    const sub = String(bucket.object_storage_id);
    expect(await lookup(`${sub}/${String(bucket.name)}`)).toEqual({ name: bucket.name, objectStorageId: sub });
    expect(await lookup(`${sub}/no-such-bucket`)).toBeNull();
    expect(await lookup(`00000000-0000-4000-8000-000000000000/${String(bucket.name)}`)).toBeNull();
  });

  test("an unreadable subscription or bucket list is an error, never gone", async () => {
    const [bucket] = emulator.accounts.vultr.buckets;
    const sub = String(bucket.object_storage_id);
    emulator.addFault({ provider: "vultr", path: `/v2/object-storage/${sub}`, kind: "500", times: Infinity });
    await expect(lookup(`${sub}/no-such-bucket`)).rejects.toThrow(/HTTP 500/);
    emulator.clearFaults();
    if (mode === "available") {
      emulator.addFault({ provider: "vultr", path: `/v2/object-storage/${sub}/bucket`, kind: "503", times: Infinity });
      await expect(lookup(`${sub}/no-such-bucket`)).rejects.toThrow(/HTTP 503/);
    } else {
      const sub0 = emulator.accounts.vultr.objectStorages!.find((s) => s.id === sub)!;
      emulator.vultrS3SecretOverrides[String(sub0.s3_access_key)] = "another-secret-another-secret";
      await expect(lookup(`${sub}/no-such-bucket`)).rejects.toThrow(/SignatureDoesNotMatch/);
    }
  });
});

describe("Vultr bucket failures", () => {
  test("subscriptions are read by cursor, 500 a page, and each subscription's buckets once", async () => {
    emulator.setAccount(
      "vultr",
      generateAccount("vultr", { seed: 8, servers: 0, volumes: 0, buckets: 520, objectStorages: 510 }),
    );
    const { t, as, dockId } = await vultrDock();
    const synced = await syncNow(t, as, dockId);
    expect(synced.lastSyncStatus).toBe("success");
    expect((await rowsOf(t, "buckets", dockId)).length).toBe(520);
    const lists = emulator.requests.filter((r) => r.path === "/v2/object-storage");
    expect(lists.map((r) => r.query.per_page)).toEqual(["500", "500"]);
    expect(lists[1].query.cursor).toBeTruthy();
    expect(emulator.requests.filter((r) => /^\/v2\/object-storage\/[^/]+\/bucket$/.test(r.path)).length).toBe(510);
  });

  test("confirming ten removed buckets of one subscription reads its bucket list once more, not ten times", async () => {
    const { t, as, dockId } = await vultrDock();
    expect((await syncNow(t, as, dockId)).lastSyncStatus).toBe("success");
    const account = emulator.accounts.vultr;
    const sub = String(account.objectStorages![0].id);
    const removed = account.buckets.filter((b) => b.object_storage_id === sub).slice(0, 10);
    emulator.setAccount("vultr", { ...account, buckets: account.buckets.filter((b) => !removed.includes(b)) });
    emulator.resetRequests();
    const synced = await syncNow(t, as, dockId);
    expect(synced.lastSyncStats?.buckets).toMatchObject({ deleted: 10, lookups: 10, complete: true });
    expect(emulator.countRequests({ path: `/v2/object-storage/${sub}` })).toBe(1);
    expect(emulator.countRequests({ path: `/v2/object-storage/${sub}/bucket` })).toBe(2);
  });

  test("S3 refusing the signature fails the buckets alone, with S3's code, and keeps every row", async () => {
    const { t, as, dockId } = await vultrDock();
    emulator.vultrBucketEndpoint = "missing";
    expect((await syncNow(t, as, dockId)).lastSyncStatus).toBe("success");
    const before = await rowsOf(t, "buckets", dockId);
    for (const s of emulator.accounts.vultr.objectStorages!) {
      emulator.vultrS3SecretOverrides[String(s.s3_access_key)] = "regenerated-secret-regenerated-secret";
    }
    emulator.setAccount("vultr", applyChanges("vultr", emulator.accounts.vultr, { seed: 1, vultrObjectStorage: { removeBuckets: 5 } }));
    const refused = await syncNow(t, as, dockId);
    expect(refused.lastSyncStatus).toBe("partial");
    expect(refused.lastSyncStats?.servers?.complete).toBe(true);
    expect(refused.lastSyncStats?.blockVolumes?.complete).toBe(true);
    expect(refused.lastSyncStats?.buckets).toMatchObject({ complete: false, deleted: 0, errorCode: "ACCESS_DENIED" });
    expect(refused.lastSyncStats?.buckets?.error).toMatch(/S3 ListBuckets on [a-z]+1\.vultrobjects\.com failed: HTTP 403: SignatureDoesNotMatch/);
    expect((await rowsOf(t, "buckets", dockId)).length).toBe(before.length);
  });

  test("an access key S3 does not know is InvalidAccessKeyId, and the rows stay", async () => {
    const { t, as, dockId } = await vultrDock();
    expect((await syncNow(t, as, dockId)).lastSyncStatus).toBe("success");
    emulator.vultrBucketEndpoint = "missing";
    // The listing hands out a key S3 no longer knows (revoked after the listing read it).
    const key = String(emulator.accounts.vultr.objectStorages![0].s3_access_key);
    emulator.vultrS3SecretOverrides[key] = null;
    const refused = await syncNow(t, as, dockId);
    expect(refused.lastSyncStats?.buckets?.error).toContain("InvalidAccessKeyId");
    expect(refused.lastSyncStats?.buckets?.errorCode).toBe("ACCESS_DENIED");
    // S3's error names the access key id; the stored error does not.
    expect(refused.lastSyncStats?.buckets?.error).not.toContain(key.slice(0, 12));
    expect((await rowsOf(t, "buckets", dockId)).length).toBe(40);
  });

  test("an s3_hostname outside Vultr's S3 domain gets no request and no keys; the buckets fail, the rows stay", async () => {
    const { t, as, dockId } = await vultrDock();
    expect((await syncNow(t, as, dockId)).lastSyncStatus).toBe("success");
    emulator.vultrBucketEndpoint = "missing";
    const account = emulator.accounts.vultr;
    emulator.setAccount("vultr", {
      ...account,
      objectStorages: account.objectStorages!.map((s) => ({ ...s, s3_hostname: "169.254.169.254" })),
    });
    emulator.resetRequests();
    const refused = await syncNow(t, as, dockId);
    expect(refused.lastSyncStats?.buckets?.error).toContain("not a Vultr Object Storage host");
    expect(emulator.requests.filter(S3)).toEqual([]);
    expect((await rowsOf(t, "buckets", dockId)).length).toBe(40);
  });

  test("an S3 answer of 503 is retried; persistent 500s fail the buckets and keep the rows", async () => {
    const { t, as, dockId } = await vultrDock();
    emulator.vultrBucketEndpoint = "missing";
    const host = String(emulator.accounts.vultr.objectStorages![0].s3_hostname);
    emulator.addFault({ provider: "vultr", path: `/s3/${host}`, kind: "503", times: 1 });
    expect((await syncNow(t, as, dockId)).lastSyncStatus).toBe("success");
    expect(emulator.requests.filter((r) => r.path === `/s3/${host}`).map((r) => r.status)).toEqual([503, 200]);
    emulator.addFault({ provider: "vultr", path: `/s3/${host}`, kind: "500", times: Infinity });
    const failed = await syncNow(t, as, dockId);
    expect(failed.lastSyncStats?.buckets).toMatchObject({ complete: false, errorCode: "PROVIDER_ERROR" });
    expect(failed.lastSyncStats?.buckets?.error).toContain("InternalError");
    expect((await rowsOf(t, "buckets", dockId)).length).toBe(40);
  });

  test("a bucket whose bucket-list lookup fails is kept and marked missing, never deleted", async () => {
    const { t, as, dockId } = await vultrDock();
    expect((await syncNow(t, as, dockId)).lastSyncStatus).toBe("success");
    const account = emulator.accounts.vultr;
    const gone = account.buckets[0];
    emulator.setAccount("vultr", { ...account, buckets: account.buckets.slice(1) });
    const path = `/v2/object-storage/${String(gone.object_storage_id)}/bucket`;
    // The listing reads this subscription's buckets once; every later ask fails.
    emulator.resetRequests();
    emulator.addFault({ provider: "vultr", path: `/v2/object-storage/${String(gone.object_storage_id)}`, kind: "500", times: Infinity });
    const synced = await syncNow(t, as, dockId);
    expect(synced.lastSyncStats?.buckets).toMatchObject({ deleted: 0, missing: 1 });
    expect(emulator.countRequests({ path })).toBe(1);
    expect((await rowsOf(t, "buckets", dockId)).length).toBe(40);
  });

  test("viewers of the org read the buckets; strangers read none", async () => {
    const { t, orgId, as, dockId } = await vultrDock();
    expect((await syncNow(t, as, dockId)).lastSyncStatus).toBe("success");
    const { as: viewer } = await seedMember(t, orgId, "viewer");
    const otherOrg = await seedOrg(t, "Other");
    const { as: stranger } = await seedMember(t, otherOrg, "owner");
    expect((await viewer.query(api.resources.queries.listBuckets, { orgId })).length).toBe(40);
    expect(await stranger.query(api.resources.queries.listBuckets, { orgId })).toEqual([]);
    expect(await stranger.query(api.resources.queries.listBuckets, {})).toEqual([]);
  });
});
