// `GET /sandbox/state`: what the emulated account holds, by name only. Never a secret, never data.
import type { AccountState, PublicState } from './account.ts';

export function publicStateOf(state: AccountState): PublicState {
  return {
    ram: {
      users: state.ram.users.map((u) => u.name),
      policies: state.ram.policies.map((p) => ({
        name: p.name,
        versions: p.versions.map((v) => v.id),
        defaultVersion: p.defaultVersion,
        document: parsedDocument(p.versions.find((v) => v.id === p.defaultVersion)?.document),
      })),
      attachments: state.ram.attachments.map((a) => ({ user: a.user, policy: a.policy })),
      accessKeys: state.ram.accessKeys.map((k) => ({ id: k.id, user: k.user })),
    },
    oss: {
      buckets: state.oss.buckets.map((b) => ({ name: b.name, region: b.region, objects: Object.keys(state.oss.objects?.[b.name] ?? {}).length })),
    },
    clusters: Object.fromEntries(
      Object.values(state.clusters).map((c) => {
        const objects = Object.values(c.objects);
        const named = (kind: string) => objects.filter((o) => o.kind === kind).map((o) => o.metadata);
        return [c.id, {
          type: c.type,
          region: c.region,
          version: c.version,
          addons: c.addons.map((a) => ({ name: a.name, version: a.version })),
          namespaces: named('Namespace').map((m) => m.name),
          secrets: named('Secret').map((m) => `${m.namespace}/${m.name}`),
          backupVaults: named('BackupLocation').map((m) => m.name),
        }];
      }),
    ),
  };
}

function parsedDocument(document: string | undefined): unknown {
  if (document === undefined) return null;
  try {
    return JSON.parse(document);
  } catch {
    return document;
  }
}
