import { describe, expect, test } from "vitest";
import bucketsSample from "../../../../docks/linode/getBuckets.json";
import { parseLinodeBucket } from "./adapter";

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

  test("a bucket answered with only the deprecated cluster is placed by it", () => {
    const { region: _region, ...rest } = bucketsSample.data[0];
    const parsed = parseLinodeBucket(rest);
    expect(parsed.ok && parsed.fields.region).toBe(bucketsSample.data[0].cluster);
  });

  test.each([
    ["no label", { label: undefined }],
    ["neither region nor cluster", { region: undefined, cluster: undefined }],
    ["size as text", { size: "12" }],
  ])("a bucket with %s is skipped", (_label, change) => {
    expect(parseLinodeBucket({ ...bucketsSample.data[0], ...change }).ok).toBe(false);
  });
});
