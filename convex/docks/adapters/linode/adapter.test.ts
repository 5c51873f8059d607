import { describe, expect, test } from "vitest";
import bucketsSample from "../../../../docks/linode/getBuckets.json";
import linodesSample from "../../../../docks/linode/getLinodes.json";
import volumeTypesSample from "../../../../docks/linode/getVolumeTypes.json";
import volumesSample from "../../../../docks/linode/getVolumes.json";
import { expectStoredBetweenSiblings, LONE_HIGH, storablePoisons, unusableIds } from "../../poison.test.setup";
import {
  linodeVolumeMonthlyCost,
  linodeVolumePrices,
  parseLinodeBucket,
  parseLinodeInstance,
  parseLinodeVolume,
} from "./adapter";

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

const prices = linodeVolumePrices(volumeTypesSample.data);

describe("Linode volume mapping", () => {
  const [attached, detached] = volumesSample.data;

  test("an attached volume maps to the blockVolumes fields, keyed by its numeric id as text", () => {
    expect(parseLinodeVolume(attached, prices)).toEqual({
      ok: true,
      fields: {
        providerResourceId: String(attached.id),
        name: attached.label,
        sizeGb: attached.size,
        region: attached.region,
        status: attached.status,
        attachedToInstance: String(attached.linode_id),
        attachedToInstanceLabel: attached.linode_label,
        mountId: attached.filesystem_path,
        blockType: attached.hardware_type,
        filesystemType: undefined,
        // 100 GB at the base $0.10 per GB.
        monthlyCost: 10,
        fullApiData: { volume: attached },
      },
    });
  });

  test("a detached volume (linode_id null) names no Linode, which clears an earlier attachment", () => {
    const parsed = parseLinodeVolume(detached, prices);
    expect(parsed.ok && parsed.fields.attachedToInstance).toBeUndefined();
    expect(parsed.ok && parsed.fields.attachedToInstanceLabel).toBeUndefined();
    expect(parsed.ok && (parsed.fields.fullApiData.volume as Record<string, unknown>).linode_id).toBeNull();
  });

  test("encryption, tags and the created and updated times stay in fullApiData.volume", () => {
    const parsed = parseLinodeVolume(attached, prices);
    expect(parsed.ok && parsed.fields.fullApiData.volume).toMatchObject({
      encryption: "enabled",
      tags: ["db"],
      created: attached.created,
      updated: attached.updated,
    });
  });

  test("a region with its own price is charged that price, not the base one", () => {
    // 500 GB in id-cgk at $0.12.
    const parsed = parseLinodeVolume(detached, prices);
    expect(parsed.ok && parsed.fields.monthlyCost).toBe(60);
  });

  test("the cost is rounded to cents", () => {
    expect(linodeVolumeMonthlyCost(33, "us-east", prices)).toBe(3.3);
    expect(linodeVolumeMonthlyCost(7, "br-gru", prices)).toBe(0.98);
    expect(linodeVolumeMonthlyCost(1, "us-east", { base: 0.105, byRegion: new Map() })).toBe(0.11);
  });

  test("without a price table (the types call failed) the volume still maps, its cost unknown", () => {
    const parsed = parseLinodeVolume(attached);
    expect(parsed.ok).toBe(true);
    expect(parsed.ok && parsed.fields.monthlyCost).toBeUndefined();
  });

  test("a region without a price of its own and no base price leaves the cost unknown", () => {
    const onlyRegional = linodeVolumePrices([{ ...volumeTypesSample.data[0], price: { hourly: null, monthly: null } }]);
    expect(linodeVolumeMonthlyCost(100, "us-ord", onlyRegional)).toBeUndefined();
    expect(linodeVolumeMonthlyCost(100, "id-cgk", onlyRegional)).toBe(12);
  });

  test.each([
    ["no volume type", []],
    ["another type only", [{ ...volumeTypesSample.data[0], id: "something-else" }]],
    ["a price as text", [{ ...volumeTypesSample.data[0], price: { monthly: "0.1" }, region_prices: [{ id: "id-cgk", monthly: -1 }, null, "x"] }]],
    ["no object at all", [null, 7, "volume"]],
  ])("a types answer with %s prices nothing, and breaks nothing", (_label, types) => {
    const table = linodeVolumePrices(types as unknown[]);
    expect(linodeVolumeMonthlyCost(100, "id-cgk", table)).toBeUndefined();
    expect(parseLinodeVolume(attached, table).ok).toBe(true);
  });

  test.each([
    ["id as text", { id: "3418207" }, /^id is a string/],
    ["no size", { size: undefined }, /^size is missing/],
    ["no region", { region: undefined }, /^region is missing/],
    ["linode_id as text", { linode_id: "52718394" }, /^linode_id is not an integer or null/],
  ])("a volume with %s is skipped with the reason", (_label, change, reason) => {
    const parsed = parseLinodeVolume({ ...attached, ...change }, prices);
    expect(!parsed.ok && parsed.reason).toMatch(reason);
  });
});

describe.each([
  { kind: "volume", parse: (item: unknown) => parseLinodeVolume(item, prices), samples: volumesSample.data as Record<string, unknown>[], dataKey: "volume", idField: "id", idReason: /^id is a string/ },
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
