import { describe, expect, test } from "vitest";
import bucketsSample from "../../../../docks/linode/getBuckets.json";
import linodesSample from "../../../../docks/linode/getLinodes.json";
import { expectStoredBetweenSiblings, LONE_HIGH, storablePoisons, unusableIds } from "../../poison.test.setup";
import { parseLinodeBucket, parseLinodeInstance } from "./adapter";

describe("Linode mapping", () => {
  test("a bucket maps to the specification's buckets fields, keyed by region and label", () => {
    const bucket = bucketsSample.data[0];
    expect(parseLinodeBucket(bucket)).toEqual({
      ok: true,
      fields: {
        providerResourceId: `${bucket.region}/${bucket.label}`,
        name: bucket.label,
        region: bucket.region,
        cluster: bucket.cluster,
        hostname: bucket.hostname,
        s3Endpoint: bucket.s3_endpoint,
        sizeBytes: bucket.size,
        objectCount: bucket.objects,
        status: "active",
        fullApiData: { bucket },
      },
    });
  });

  test("two buckets with one label in two regions get two keys", () => {
    const sameLabel = bucketsSample.data.filter((b) => b.label === bucketsSample.data[0].label);
    expect(sameLabel.length).toBe(2);
    const keys = sameLabel.map((b) => {
      const parsed = parseLinodeBucket(b);
      return parsed.ok ? parsed.fields.providerResourceId : null;
    });
    expect(new Set(keys).size).toBe(2);
  });

  test("an empty bucket stores size and object count 0, not nothing", () => {
    const empty = bucketsSample.data.find((b) => b.size === 0)!;
    const parsed = parseLinodeBucket(empty);
    expect(parsed.ok && parsed.fields.sizeBytes).toBe(0);
    expect(parsed.ok && parsed.fields.objectCount).toBe(0);
  });

  test("a bucket answered with only the deprecated cluster is placed in the cluster's region, under the same key", () => {
    const { region: _region, ...rest } = bucketsSample.data[0];
    const withoutRegion = parseLinodeBucket(rest);
    const withRegion = parseLinodeBucket(bucketsSample.data[0]);
    // us-ord-1 is a cluster of us-ord.
    expect(withoutRegion.ok && withoutRegion.fields.region).toBe(bucketsSample.data[0].region);
    expect(withoutRegion.ok && withoutRegion.fields.providerResourceId).toBe(
      withRegion.ok && withRegion.fields.providerResourceId,
    );
  });

  test.each([
    ["no label", { label: undefined }],
    ["neither region nor cluster", { region: undefined, cluster: undefined }],
    ["size as text", { size: "12" }],
  ])("a bucket with %s is skipped", (_label, change) => {
    expect(parseLinodeBucket({ ...bucketsSample.data[0], ...change }).ok).toBe(false);
  });
});

describe.each([
  { kind: "instance", parse: parseLinodeInstance, samples: linodesSample.data as Record<string, unknown>[], dataKey: "linode", idField: "id", idReason: /^id is a string/ },
  { kind: "bucket", parse: parseLinodeBucket, samples: bucketsSample.data as Record<string, unknown>[], dataKey: "bucket", idField: "label", idReason: /^label is (not valid Unicode|2000 characters)/ },
])("a hostile Linode $kind", ({ parse, samples, dataKey, idField, idReason }) => {
  test.each(storablePoisons(samples[0], "label").filter(([label]) => idField !== "label" || !label.includes("lone surrogates")))(
    "with %s becomes a row within Convex's limits; its siblings parse as alone",
    (_label, poison) => expectStoredBetweenSiblings(parse, [samples[0], samples[1]], poison),
  );

  test.each(unusableIds(samples[0], idField))("with %s is skipped with the reason", (_label, poison) => {
    const parsed = parse(poison);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(idReason);
  });

  test("keeps the provider's nulls as null", () => {
    const item = { ...samples[0], ipv6: null, linode_id: null, backups: { last_successful: null } };
    const parsed = parse(item);
    const stored = (parsed.ok && (parsed.fields.fullApiData as Record<string, unknown>)[dataKey]) as Record<string, unknown>;
    expect(stored.ipv6).toBeNull();
    expect(stored.linode_id).toBeNull();
    expect(stored.backups).toEqual({ last_successful: null });
    expect(parsed.ok && parsed.trimmed).toBeUndefined();
  });
});

test("a bucket whose region and label together are too long for a key is skipped", () => {
  // Each part fits an id (256 characters); together they do not.
  const parsed = parseLinodeBucket({ ...bucketsSample.data[0], region: "r".repeat(200), label: "l".repeat(200) });
  expect(!parsed.ok && parsed.reason).toMatch(/region\/label is 401 characters long/);
});

test("a bucket label with a lone surrogate cannot key a row and is skipped", () => {
  const parsed = parseLinodeBucket({ ...bucketsSample.data[0], label: `b${LONE_HIGH}` });
  expect(!parsed.ok && parsed.reason).toBe("label is not valid Unicode");
});
