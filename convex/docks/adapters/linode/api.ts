// Linode API v4 endpoints this module reads; paging (page/page_size 500),
// retries and errors are the shared client's.
import { WHOLE_BODY, type ProviderClient } from "../../http";
import type { LinodeBucket, LinodeInstance } from "./types";

export class LinodeAPI {
  constructor(private readonly client: ProviderClient) {}

  async listLinodes(): Promise<LinodeInstance[]> {
    return await this.client.listAll<LinodeInstance>("/v4/linode/instances", "data");
  }

  async listBuckets(): Promise<LinodeBucket[]> {
    return await this.client.listAll<LinodeBucket>("/v4/object-storage/buckets", "data");
  }

  /** The Linodes a page at a time; returns normally only when the listing was complete. */
  linodePages(): AsyncGenerator<LinodeInstance[], void, undefined> {
    return this.client.pages<LinodeInstance>("/v4/linode/instances", "data");
  }

  /** The buckets a page at a time; returns normally only when the listing was complete. */
  bucketPages(): AsyncGenerator<LinodeBucket[], void, undefined> {
    return this.client.pages<LinodeBucket>("/v4/object-storage/buckets", "data");
  }

  /** One Linode (the answer is the item itself); null when it no longer exists. */
  async getLinode(id: number | string): Promise<LinodeInstance | null> {
    return await this.client.getItem<LinodeInstance>(
      `/v4/linode/instances/${encodeURIComponent(String(id))}`,
      WHOLE_BODY,
    );
  }

  /** One bucket, by region and label (labels are unique per region); null when it no longer exists. */
  async getBucket(region: string, label: string): Promise<LinodeBucket | null> {
    return await this.client.getItem<LinodeBucket>(
      `/v4/object-storage/buckets/${encodeURIComponent(region)}/${encodeURIComponent(label)}`,
      WHOLE_BODY,
    );
  }

  /** The cheapest authenticated call: proves the token works. */
  async getProfile(): Promise<Record<string, unknown>> {
    return await this.client.getJson("/v4/profile");
  }
}
