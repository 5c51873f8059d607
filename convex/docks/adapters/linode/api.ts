// Linode API v4 endpoints this module reads; paging (page/page_size 500),
// retries and errors are the shared client's.
import { ProviderError, WHOLE_BODY, type ProviderClient } from "../../http";
import type { LinodeBucket, LinodeInstance, LinodeVolume, LinodeVolumeType } from "./types";

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

  /** The Block Storage volumes a page at a time; returns normally only when the listing was complete. */
  volumePages(): AsyncGenerator<LinodeVolume[], void, undefined> {
    return this.client.pages<LinodeVolume>("/v4/volumes", "data");
  }

  /** One volume (the answer is the item itself); null when it no longer exists. */
  async getVolume(id: string): Promise<LinodeVolume | null> {
    return await this.client.getItem<LinodeVolume>(`/v4/volumes/${encodeURIComponent(id)}`, WHOLE_BODY);
  }

  /**
   * The Block Storage prices (per GB and month, with per-region overrides).
   * Public: no scope needed; sending the token does no harm.
   */
  async listVolumeTypes(): Promise<LinodeVolumeType[]> {
    return await this.client.listAll<LinodeVolumeType>("/v4/volumes/types", "data");
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

  /**
   * The cheapest authenticated call: proves the token works and names its
   * account. /v4/profile answers every token whatever its scopes, and its
   * `uid` never changes; a Linode user belongs to one account, so one uid is
   * one account. /v4/account's euuid would name the account itself but needs
   * the account:read_only scope, which a read-only inventory token need not
   * have. The cost: a token of another user of the same account is refused
   * as another account (a refusal, never a wrong acceptance).
   */
  async getProfileUid(): Promise<string> {
    const body = await this.client.getJson("/v4/profile");
    if (typeof body.uid !== "number" || !Number.isSafeInteger(body.uid)) {
      throw new ProviderError("linode", "/v4/profile", 200, "the answer names no user (no uid)", false);
    }
    return `uid:${body.uid}`;
  }
}
