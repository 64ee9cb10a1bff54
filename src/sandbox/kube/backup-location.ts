// The BackupLocation custom resource (csdr.alibabacloud.com/v1beta1, a "backup vault"): its emulated CRD schema and
// the backup center's rule on vault names. The schema is not published; it is built from what the sources say:
//  - ACK "Use kubectl to back up and restore applications" (https://www.alibabacloud.com/help/doc-detail/469706.html):
//    the BackupLocation example in namespace csdr with spec.backupSyncPeriod, spec.config.network / region,
//    spec.objectStorage.bucket / prefix and spec.provider: alibabacloud, and "Do not delete the parameters in the
//    following sample code in case the backup files cannot be restored".
//  - It is built after Velero's BackupStorageLocation, where provider and objectStorage.bucket are required and
//    prefix is optional (https://velero.io/docs/v1.7/api-types/backupstoragelocation/).
//  - velero-plugin-for-alibabacloud: config.region is required; config.network is internal or accelerate, the
//    default being the public network (github.com/AliyunContainerService/velero-plugin README_EN.md); the backup
//    center FAQ writes network: public explicitly (faq-about-the-backup-center, "VaultError").
// Stricter reading where the sources stop: every field of the example is required (config included), values are
// typed and enumerated, and unknown fields are pruned as a structural CRD schema does.
import type { AccountState } from '../account.ts';

type Json = Record<string, unknown>;

export interface Schema {
  type: 'object' | 'string';
  required?: string[];
  properties?: Record<string, Schema>;
  /** A map of strings (config is map[string]string in Velero). */
  additionalProperties?: Schema;
  enum?: string[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

/** metav1.Duration as Go prints and parses it: "0s", "1h30m", "90s". */
const DURATION = '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$';

export const BACKUP_LOCATION_SCHEMA: Schema = {
  type: 'object',
  required: ['spec'],
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    spec: {
      type: 'object',
      required: ['provider', 'objectStorage', 'config', 'backupSyncPeriod'],
      properties: {
        provider: { type: 'string', enum: ['alibabacloud'] },
        objectStorage: {
          type: 'object',
          required: ['bucket', 'prefix'],
          properties: {
            // OSS bucket names: 3–63 characters (https://www.alibabacloud.com/help/en/oss/user-guide/bucket-naming-conventions).
            bucket: { type: 'string', minLength: 3, maxLength: 63 },
            prefix: { type: 'string' },
          },
        },
        config: {
          type: 'object',
          required: ['network', 'region'],
          properties: {
            network: { type: 'string', enum: ['internal', 'public', 'accelerate'] },
            region: { type: 'string', minLength: 1 },
          },
          additionalProperties: { type: 'string' },
        },
        backupSyncPeriod: { type: 'string', pattern: DURATION },
        accessMode: { type: 'string', enum: ['ReadWrite', 'ReadOnly'] },
      },
    },
    status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  },
};

export interface SchemaCause {
  field: string;
  message: string;
  reason: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueTypeInvalid';
}

const isMap = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const typeName = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value);

/**
 * Validates `value` against `schema` as the apiserver validates a CRD (the causes it reports) and returns it pruned of
 * fields the schema does not know. `path` is the field path of `value`.
 */
export function checkAgainstSchema(schema: Schema, value: unknown, path: string, causes: SchemaCause[]): unknown {
  if (schema.type === 'string') {
    if (typeof value !== 'string') {
      causes.push({ field: path, reason: 'FieldValueTypeInvalid', message: `Invalid value: "${typeName(value)}": ${path} in body must be of type string: "${typeName(value)}"` });
      return value;
    }
    if (schema.enum && !schema.enum.includes(value)) {
      causes.push({ field: path, reason: 'FieldValueNotSupported', message: `Unsupported value: "${value}": supported values: ${schema.enum.map((e) => `"${e}"`).join(', ')}` });
    }
    if (schema.minLength !== undefined && value.length < schema.minLength) {
      causes.push({ field: path, reason: 'FieldValueInvalid', message: `Invalid value: "${value}": ${path} in body should be at least ${schema.minLength} chars long` });
    }
    if (schema.maxLength !== undefined && value.length > schema.maxLength) {
      causes.push({ field: path, reason: 'FieldValueInvalid', message: `Invalid value: "${value}": ${path} in body should be at most ${schema.maxLength} chars long` });
    }
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) {
      causes.push({ field: path, reason: 'FieldValueInvalid', message: `Invalid value: "${value}": ${path} in body should match '${schema.pattern}'` });
    }
    return value;
  }
  if (!isMap(value)) {
    causes.push({ field: path, reason: 'FieldValueTypeInvalid', message: `Invalid value: "${typeName(value)}": ${path} in body must be of type object: "${typeName(value)}"` });
    return value;
  }
  if (schema['x-kubernetes-preserve-unknown-fields']) return value;
  const pruned: Json = {};
  for (const required of schema.required ?? []) {
    if (value[required] === undefined || value[required] === null) causes.push({ field: join(path, required), reason: 'FieldValueRequired', message: 'Required value' });
  }
  for (const [key, child] of Object.entries(value)) {
    const childSchema = schema.properties?.[key] ?? schema.additionalProperties;
    if (!childSchema || child === undefined || child === null) continue;
    pruned[key] = checkAgainstSchema(childSchema, child, join(path, key), causes);
  }
  return pruned;
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

/**
 * "You cannot create a backup vault with the same name as a deleted one" and "you cannot modify a backup vault or
 * create a new one with the same name" (faq-about-the-backup-center, "VaultError" and "Can I modify the backup
 * vault?", https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/user-guide/faq-about-the-backup-center).
 * A vault is shared by the account's clusters, so the emulator keeps deleted names per account. Where the refusal
 * happens is not documented; the stricter reading refuses at creation, as a validating admission webhook answers
 * (Kubernetes turns a denial without a code into 400). Returns the webhook's message, or null.
 */
export function deletedVaultNameRefusal(state: AccountState, name: unknown): string | null {
  if (typeof name !== 'string' || !(state.deletedBackupVaults ?? []).includes(name)) return null;
  return `admission webhook "backuplocation.csdr.alibabacloud.com" denied the request: backup vault ${name} was deleted; a backup vault cannot be created with the name of a deleted one, choose another name`;
}

export function rememberDeletedVault(state: AccountState, name: string): void {
  state.deletedBackupVaults = [...new Set([...(state.deletedBackupVaults ?? []), name])];
}
