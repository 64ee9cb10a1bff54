// The files Velero (csdr-velero, the engine of the backup center) writes to the vault for one backup, under
// `<prefix>/backups/<name>/`: layout of vmware-tanzu/velero pkg/persistence/object_store_layout.go, upload order and
// rules of object_store.go PutBackup (the log first and best-effort, then velero-backup.json, which is a hard stop,
// then <name>.tar.gz, then the rest; a failure after the metadata removes the contents and the metadata again).
import { gzipSync } from 'node:zlib';
import type { KubeObject } from '../account.ts';

export interface VeleroFile { key: string; body: Buffer; bestEffort?: boolean }

/** `<prefix>/backups/<name>/`, with Velero's trimming of slashes around the prefix. */
export function backupDir(prefix: string, name: string): string {
  const root = prefix.replace(/^\/+|\/+$/g, '');
  return `${root ? `${root}/` : ''}backups/${name}/`;
}

export function metadataKey(prefix: string, name: string): string {
  return `${backupDir(prefix, name)}velero-backup.json`;
}

/** A POSIX ustar archive of regular files (what Velero's <name>.tar.gz holds, before gzip). */
function tar(files: { name: string; body: Buffer }[], mtime: number): Buffer {
  const blocks: Buffer[] = [];
  for (const file of files) {
    const header = Buffer.alloc(512);
    const field = (value: string, offset: number, length: number) => header.write(value, offset, length, 'utf8');
    const octal = (value: number, offset: number, length: number) => field(value.toString(8).padStart(length - 1, '0'), offset, length - 1);
    field(file.name, 0, 100);
    octal(0o644, 100, 8);
    octal(0, 108, 8);
    octal(0, 116, 8);
    octal(file.body.length, 124, 12);
    octal(Math.floor(mtime / 1000), 136, 12);
    header.fill(' ', 148, 156);
    field('0', 156, 1);
    field('ustar\0', 257, 6);
    field('00', 263, 2);
    let sum = 0;
    for (const byte of header) sum += byte;
    field(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
    blocks.push(header, file.body, Buffer.alloc((512 - (file.body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

const gz = (text: string) => gzipSync(Buffer.from(text, 'utf8'));

/** Velero's resource directory name: `<plural>` for the core group, `<plural>.<group>` otherwise. */
function resourceDir(object: KubeObject): string {
  const plural = `${object.kind.toLowerCase()}${object.kind.endsWith('s') ? 'es' : 's'}`;
  const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '';
  return group ? `${plural}.${group}` : plural;
}

export interface BackupRecord {
  name: string;
  namespace: string;
  spec: Record<string, unknown>;
  items: KubeObject[];
  startedAt: string;
  completedAt: string;
  log: string[];
}

/** Every file of the backup, in PutBackup's order. */
export function veleroFiles(prefix: string, backup: BackupRecord): VeleroFile[] {
  const dir = backupDir(prefix, backup.name);
  const mtime = Date.parse(backup.completedAt);
  const entries = backup.items.map((item) => {
    const scope = item.metadata.namespace ? `namespaces/${item.metadata.namespace}` : 'cluster';
    return { name: `resources/${resourceDir(item)}/${scope}/${item.metadata.name}.json`, body: Buffer.from(JSON.stringify(item), 'utf8') };
  });
  const contents = gzipSync(tar([{ name: 'metadata/version', body: Buffer.from('1.1.0\n') }, ...entries], mtime));
  const resourceList: Record<string, string[]> = {};
  for (const item of backup.items) {
    const type = `${item.apiVersion}/${item.kind}`;
    (resourceList[type] ??= []).push(item.metadata.namespace ? `${item.metadata.namespace}/${item.metadata.name}` : item.metadata.name);
  }
  const metadata = {
    kind: 'Backup',
    apiVersion: 'velero.io/v1',
    metadata: { name: backup.name, namespace: backup.namespace },
    spec: backup.spec,
    status: { version: 1, phase: 'Completed', startTimestamp: backup.startedAt, completionTimestamp: backup.completedAt, progress: { totalItems: backup.items.length, itemsBackedUp: backup.items.length } },
  };
  return [
    { key: `${dir}${backup.name}-logs.gz`, body: gz(`${backup.log.join('\n')}\n`), bestEffort: true },
    { key: `${dir}velero-backup.json`, body: Buffer.from(JSON.stringify(metadata), 'utf8') },
    { key: `${dir}${backup.name}.tar.gz`, body: contents },
    { key: `${dir}${backup.name}-podvolumebackups.json.gz`, body: gz('[]') },
    { key: `${dir}${backup.name}-volumesnapshots.json.gz`, body: gz('[]') },
    { key: `${dir}${backup.name}-itemoperations.json.gz`, body: gz('[]') },
    { key: `${dir}${backup.name}-resource-list.json.gz`, body: gz(JSON.stringify(resourceList)) },
    { key: `${dir}${backup.name}-csi-volumesnapshots.json.gz`, body: gz('[]') },
    { key: `${dir}${backup.name}-csi-volumesnapshotcontents.json.gz`, body: gz('[]') },
    { key: `${dir}${backup.name}-csi-volumesnapshotclasses.json.gz`, body: gz('[]') },
    { key: `${dir}${backup.name}-results.gz`, body: gz('{"errors":{},"warnings":{}}') },
    { key: `${dir}${backup.name}-volumeinfo.json.gz`, body: gz('[]') },
  ];
}
