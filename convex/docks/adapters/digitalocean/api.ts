// DigitalOcean API v2 endpoints this module reads; paging (page/per_page 200),
// retries and errors are the shared client's.
import type { ProviderClient } from "../../http";
import type { DigitalOceanDroplet, DigitalOceanVolume } from "./types";

export class DigitalOceanAPI {
  constructor(private readonly client: ProviderClient) {}

  async listDroplets(): Promise<DigitalOceanDroplet[]> {
    return await this.client.listAll<DigitalOceanDroplet>("/v2/droplets", "droplets");
  }

  async listVolumes(): Promise<DigitalOceanVolume[]> {
    return await this.client.listAll<DigitalOceanVolume>("/v2/volumes", "volumes");
  }

  /** The droplets a page at a time; returns normally only when the listing was complete. */
  dropletPages(): AsyncGenerator<DigitalOceanDroplet[], void, undefined> {
    return this.client.pages<DigitalOceanDroplet>("/v2/droplets", "droplets");
  }

  /** The volumes a page at a time; returns normally only when the listing was complete. */
  volumePages(): AsyncGenerator<DigitalOceanVolume[], void, undefined> {
    return this.client.pages<DigitalOceanVolume>("/v2/volumes", "volumes");
  }

  /** One droplet; null when it no longer exists. */
  async getDroplet(id: number | string): Promise<DigitalOceanDroplet | null> {
    return await this.client.getItem<DigitalOceanDroplet>(`/v2/droplets/${encodeURIComponent(String(id))}`, "droplet");
  }

  /** One volume; null when it no longer exists. */
  async getVolume(id: string): Promise<DigitalOceanVolume | null> {
    return await this.client.getItem<DigitalOceanVolume>(`/v2/volumes/${encodeURIComponent(id)}`, "volume");
  }

  /** The cheapest authenticated call: proves the token works. */
  async getAccount(): Promise<Record<string, unknown>> {
    return await this.client.getJson("/v2/account");
  }
}
