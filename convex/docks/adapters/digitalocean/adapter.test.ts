import { describe, expect, test } from "vitest";
import dropletsSample from "../../../../docks/digitalocean/getDroplets.json";
import volumesSample from "../../../../docks/digitalocean/getVolumes.json";
import { expectStoredBetweenSiblings, LONE_HIGH, storablePoisons, unusableIds } from "../../poison.test.setup";
import { parseDigitalOceanDroplet, parseDigitalOceanVolume } from "./adapter";

describe("DigitalOcean mapping", () => {
  test("a volume maps to the specification's blockVolumes fields, with the item under fullApiData.volume", () => {
    const volume = volumesSample.volumes[0];
    expect(parseDigitalOceanVolume(volume)).toEqual({
      ok: true,
      fields: {
        providerResourceId: volume.id,
        name: volume.name,
        sizeGb: volume.size_gigabytes,
        region: volume.region.slug,
        status: "active",
        attachedToInstance: String(volume.droplet_ids[0]),
        attachedToInstanceLabel: undefined,
        mountId: undefined,
        blockType: undefined,
        filesystemType: volume.filesystem_type,
        fullApiData: { volume },
      },
    });
  });

  test("a volume's region falls back to the region name without a slug", () => {
    const volume = { ...volumesSample.volumes[0], region: { name: "Amsterdam 3" } };
    const parsed = parseDigitalOceanVolume(volume);
    expect(parsed.ok && parsed.fields.region).toBe("Amsterdam 3");
  });

  test("a detached volume has no attachment and an unformatted one no filesystem", () => {
    const detached = volumesSample.volumes.find((v) => v.droplet_ids.length === 0)!;
    const parsed = parseDigitalOceanVolume(detached);
    expect(parsed.ok && parsed.fields.attachedToInstance).toBeUndefined();
    expect(parsed.ok && parsed.fields.filesystemType).toBeUndefined();
  });

  test.each([
    ["no id", { id: undefined }],
    ["droplet ids that are not numbers", { droplet_ids: ["x"] }],
    ["no region", { region: undefined }],
    ["size as text", { size_gigabytes: "100" }],
  ])("a volume with %s is skipped", (_label, change) => {
    expect(parseDigitalOceanVolume({ ...volumesSample.volumes[0], ...change }).ok).toBe(false);
  });
});

describe.each([
  { kind: "droplet", parse: parseDigitalOceanDroplet, samples: dropletsSample.droplets as Record<string, unknown>[], dataKey: "droplet", stringId: false },
  { kind: "volume", parse: parseDigitalOceanVolume, samples: volumesSample.volumes as Record<string, unknown>[], dataKey: "volume", stringId: true },
])("a hostile DigitalOcean $kind", ({ parse, samples, dataKey, stringId }) => {
  test.each(storablePoisons(samples[0], "name"))(
    "with %s becomes a row within Convex's limits; its siblings parse as alone",
    (_label, poison) => expectStoredBetweenSiblings(parse, [samples[0], samples[1]], poison),
  );

  test.each(unusableIds(samples[0], "id"))("with %s is skipped with the reason", (_label, poison) => {
    const parsed = parse(poison);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(stringId ? /^id is (not valid Unicode|2000 characters)/ : /^id is a string/);
  });

  test("with a lone surrogate in its region slug is placed in a well-formed region", () => {
    const parsed = parse({ ...samples[0], region: { slug: `ams3${LONE_HIGH}` } });
    expect(parsed.ok && parsed.fields.region).toBe("ams3\uFFFD");
  });

  test("keeps the provider's nulls as null", () => {
    const item = { ...samples[0], next_backup_window: null, description: null, image: { distribution: null } };
    const parsed = parse(item);
    const stored = (parsed.ok && (parsed.fields.fullApiData as Record<string, unknown>)[dataKey]) as Record<string, unknown>;
    expect(stored.next_backup_window).toBeNull();
    expect(stored.description).toBeNull();
    expect(stored.image).toEqual({ distribution: null });
    expect(parsed.ok && parsed.trimmed).toBeUndefined();
  });
});
