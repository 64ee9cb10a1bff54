// The backup vault (BackupLocation in csdr): its name and the network it reaches OSS over.
import type { ClusterKind, NetworkType } from '../contract.ts';

const VAULT_SUFFIX = '-backups';
/** How many names a setup tries when the one before is taken by a vault that was deleted (names are never reused). */
export const VAULT_NAME_TRIES = 9;

/**
 * A readable vault name from the cluster's name (its id when the name has no usable letters): lowercase letters,
 * digits and hyphens, starting with a letter, at most 63 characters with room for "-9". The old console rule allowed
 * only letters and digits, but the backup-center FAQ's own example is "a-test-backuplocation"; a Kubernetes object
 * name allows both.
 */
export function backupVaultName(cluster: { name: string; clusterId: string }): string {
  const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^[^a-z]+|-+$/g, '');
  const base = (slug(cluster.name) || slug(cluster.clusterId) || 'cluster').slice(0, 63 - VAULT_SUFFIX.length - 2).replace(/-+$/, '');
  return `${base}${VAULT_SUFFIX}`;
}

/** `name`, then `name-2` … : a vault cannot take the name of a deleted one, nor be modified in place. */
export function vaultNameCandidates(name: string): string[] {
  return [name, ...Array.from({ length: VAULT_NAME_TRIES - 1 }, (_, i) => `${name}-${i + 2}`)];
}

/**
 * The vault's network. The backup-center FAQ ("VaultError",
 * https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/faq-about-the-backup-center):
 * the vault "must access the OSS bucket over the public network" when the cluster and the bucket are in different
 * regions, when the cluster is an ACK Edge cluster, or when it is a registered cluster without a VPC link and a
 * route to OSS's internal CIDR blocks. The seed says the Edge component runs on cloud-side nodes and reaches OSS
 * internally; the FAQ's rule for the vault is the specific one and the stricter, so Edge vaults are public. The bot
 * cannot see a registered cluster's routes, so its vaults are public (the internal route is offered as guidance).
 * OSS internal endpoints serve only their own region (https://www.alibabacloud.com/help/en/oss/user-guide/regions-and-endpoints).
 */
export function vaultNetwork(kind: ClusterKind, clusterRegion: string, bucketRegion: string): NetworkType {
  if (clusterRegion !== bucketRegion) return 'public';
  if (kind === 'edge' || kind === 'registered') return 'public';
  return 'internal';
}
