// The Fix button of a drift message: a setup session in the drift message's thread that plans only what
// drifted (each step with its usual approval) and ends with a test backup. The person who clicks is its requester.
import type { ChatEvent, TellActor } from '../chat/model.ts';
import type { Sessions } from '../session/sessions.ts';
import type { Store } from '../store/contract.ts';
import { repairOf, type Baseline, type OpenDrift } from './drift.ts';
import { code, person, time } from '../../flows/domain/inline.js';

export interface FixDeps {
  store: Store;
  sessions: Sessions;
}

type Click = Extract<ChatEvent, { kind: 'answer' }>;

export async function fix(deps: FixDeps, clusterId: string, click: Click, tell: TellActor): Promise<void> {
  const { store, sessions } = deps;
  const watch = await store.getWatch(clusterId);
  const drift = (watch?.drift as OpenDrift | null | undefined) ?? null;
  if (!watch || !drift) return tell(`The drift of ${code(clusterId)} is resolved already; your click changed nothing.`);
  if (click.value !== drift.id) {
    return tell(`That Fix button belongs to an older drift report of ${code(clusterId)}; use the one on the report of ${time(drift.since)}. Nothing was started.`);
  }
  if (click.conversation.platform !== watch.conversation.platform || click.conversation.channelId !== watch.conversation.channelId) {
    return tell(`${code(clusterId)} is watched from another channel; its Fix starts there. Nothing was started.`);
  }
  const repair = repairOf(drift.items, (watch.baseline as Baseline | null) ?? null);
  const result = await sessions.start({
    clusterId,
    requester: click.actor.id,
    requesterName: click.actor.name,
    conversation: watch.conversation,
    eventId: click.eventId,
    ...(repair ? { repair } : {}),
    ...(drift.message ? { inThread: drift.message.messageId } : {}),
  });
  if (result.started) return;
  if ('reason' in result) return tell(result.reason);
  return tell(
    `A session of ${code(clusterId)} is already running (started by ${person(result.existing.requester)}): ` +
      `see \`/backup-setup status ${clusterId}\`. The watch checks again once it has ended.`,
  );
}
