import { describe, expect, test } from "vitest";
import volumesSample from "../../../../docks/digitalocean/getVolumes.json";
import { parseDigitalOceanVolume } from "./adapter";

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
