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
