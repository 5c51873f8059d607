// Vultr API v2 shapes this module reads (GET /v2/instances, GET /v2/blocks).

export interface VultrBlock {
  id: string;
  date_created: string;
  cost: number;
  pending_charges: number;
  status: string;
  size_gb: number;
  region: string;
  attached_to_instance: string;
  attached_to_instance_ip: string;
  attached_to_instance_label: string;
  label: string;
  mount_id: string;
  block_type: string;
  os_id: number;
  snapshot_id: string;
  bootable: boolean;
}

export interface VultrInstance {
  id: string;
  label: string;
  hostname: string;
  region: string;
  plan: string;
  status: string;
  power_status: string;
  main_ip: string;
  // Secrets the list endpoint returns: the root password and a console URL
  // carrying an access token. Never stored.
  default_password?: string;
  kvm?: string;
  [field: string]: unknown;
}

/**
 * One Object Storage subscription (GET /v2/object-storage). Vultr prices the
 * subscription by its tier; its buckets carry no price, size or object count.
 */
export interface VultrObjectStorage {
  id: string;
  date_created: string;
  cluster_id: number;
  region: string;
  label: string;
  status: string;
  s3_hostname: string;
  // The subscription's S3 credentials, in every list and single answer.
  // Dropped as soon as an answer arrives (VULTR_OBJECT_STORAGE_SECRETS); kept
  // only in the sync action's memory to sign S3 ListBuckets.
  s3_access_key?: string;
  s3_secret_key?: string;
  [field: string]: unknown;
}

/** One bucket of a subscription (GET /v2/object-storage/{id}/bucket, or S3 ListBuckets). */
export interface VultrBucket {
  name: string;
  date_created: string;
}
