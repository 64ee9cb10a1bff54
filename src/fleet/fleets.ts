// The fleet setups running in this process, and where a click on a fleet approval goes.
import type { Actor, Conversation, TellActor } from '../chat/model.ts';
import { FLEET_APPROVAL_PREFIX, FleetRun, type FleetDeps } from './fleet-run.ts';

export class Fleets {
  private readonly deps: FleetDeps;
  private readonly running = new Set<FleetRun>();

  constructor(deps: FleetDeps) {
    this.deps = deps;
  }

  /** Starts one session per cluster; clusters with a refusal (channel binding) are skipped with it. */
  async start(clusterIds: string[], requester: Actor, conversation: Conversation, refusals: Map<string, string>, eventId: string): Promise<FleetRun> {
    const run = new FleetRun(this.deps, requester, conversation, clusterIds, eventId, () => this.running.delete(run));
    this.running.add(run);
    await run.start(refusals);
    return run;
  }

  static isFleetApproval(approvalId: string): boolean {
    return approvalId.startsWith(FLEET_APPROVAL_PREFIX);
  }

  async decide(approvalId: string, decision: 'approve' | 'deny', actor: Actor, messageId: string, tell: TellActor): Promise<void> {
    const run = [...this.running].find((r) => r.owns(approvalId));
    if (!run) {
      return tell(
        'This fleet approval is no longer open (already decided, or the bot restarted: each cluster then asks in the thread on its own). Your click changed nothing.',
      );
    }
    await run.decide(approvalId, decision, actor, messageId, tell);
  }
}
