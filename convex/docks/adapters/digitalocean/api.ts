// DigitalOcean API v2 endpoints this module lists; paging (page/per_page 200),
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

  /** The cheapest authenticated call: proves the token works. */
  async getAccount(): Promise<Record<string, unknown>> {
    return await this.client.getJson("/v2/account");
  }
}
