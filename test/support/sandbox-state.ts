// Reading the emulated account the way an operator would check it, for assertions.
import type { PublicState } from '../../src/sandbox/account.ts';
import { BOT_POLICY, BOT_USER } from '../../src/sandbox/bot-identity.ts';
import type { Sandbox } from '../../src/sandbox/index.ts';

/** The decoded data of a Secret in an emulated cluster, or null when it does not exist. */
export function secretData(sandbox: Sandbox, clusterId: string, namespace: string, name: string): Record<string, string> | null {
  const secret = Object.values(sandbox.account.state.clusters[clusterId]?.objects ?? {}).find(
    (o) => o.kind === 'Secret' && o.metadata.namespace === namespace && o.metadata.name === name,
  );
  if (!secret) return null;
  const data = (secret as { data?: Record<string, string> }).data ?? {};
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
}

/** Adds clusters to the emulated account, each a copy of `templateId` under a new id (benchmarks, fleets). */
export function cloneClusters(sandbox: Sandbox, templateId: string, ids: string[]): void {
  sandbox.account.change((state) => {
    const template = state.clusters[templateId];
    if (!template) throw new Error(`no cluster ${templateId} to copy`);
    for (const id of ids) {
      state.clusters[id] = { ...structuredClone(template), id, name: id.replace(/^c-/, '') };
    }
  });
}

/**
 * `/sandbox/state` without the bot's own RAM identity (its user, policy, attachment and key, seeded in every sandbox):
 * what a setup created, for assertions about it.
 */
export function setupState(sandbox: Sandbox): PublicState {
  const state = sandbox.publicState();
  return {
    ...state,
    ram: {
      users: state.ram.users.filter((u) => u !== BOT_USER),
      policies: state.ram.policies.filter((p) => p.name !== BOT_POLICY),
      attachments: state.ram.attachments.filter((a) => a.user !== BOT_USER),
      accessKeys: state.ram.accessKeys.filter((k) => k.user !== BOT_USER),
    },
  };
}
