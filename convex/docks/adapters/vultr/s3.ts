// S3 ListBuckets against one Vultr Object Storage subscription, for accounts
// where Vultr's own bucket listing answers 404: which hosts the subscription's
// keys may go to, and where the request goes. The signing and the XML are the
// shared S3 client's (../../s3.ts).
import { s3ListBucketsUrl } from "../../../lib/settings";
import { listBucketsSigned, s3Failure, s3HostUrl, type S3Bucket, type S3Options } from "../../s3";

export { parseListBuckets, parseS3Error, parseXml, signV4 } from "../../s3";

/** A subscription's S3 access: held in the action's memory only, never stored or passed on. */
export type S3Access = { hostname: string; accessKey: string; secretKey: string };

// Vultr's S3 endpoints: "<cluster>.vultrobjects.com" (ewr1, sjc1, ams1, ...).
// The hostname comes from the provider's answer, and the keys go with the
// request: anything else (another domain, an IP, a port, a path) is refused,
// so a hostile or broken answer cannot make the action sign a request to a
// host of its choosing or reach an internal address.
const VULTR_S3_HOST = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.vultrobjects\.com$/;

/** Whether Vultr's answer names one of its own S3 hosts. */
export function isVultrS3Host(hostname: string): boolean {
  return VULTR_S3_HOST.test(hostname);
}

// Ceph (Vultr's S3) takes any region in the credential scope; us-east-1 is
// what S3 clients send by default.
const SIGNING_REGION = "us-east-1";

/** Where ListBuckets goes: https://<hostname>/, or the operator's override (the emulator). */
export function listBucketsUrl(hostname: string): URL {
  return s3HostUrl(hostname, s3ListBucketsUrl());
}

/**
 * Every bucket of the subscription, by S3 ListBuckets signed with its keys.
 * Throws ProviderError (provider "vultr") whose text names the host and S3's
 * error code and never holds either key (see listBucketsSigned).
 */
export async function listBucketsByS3(access: S3Access, options: S3Options = {}): Promise<S3Bucket[]> {
  const target = {
    provider: "vultr" as const,
    hostname: access.hostname,
    region: SIGNING_REGION,
    accessKey: access.accessKey,
    secretKey: access.secretKey,
  };
  if (!isVultrS3Host(access.hostname)) {
    throw s3Failure(target)(
      null,
      "the subscription's s3_hostname is not a Vultr Object Storage host; its keys are not sent there",
      false,
    );
  }
  return await listBucketsSigned({ ...target, url: listBucketsUrl(access.hostname) }, options);
}
