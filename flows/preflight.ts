// Reads the cluster and decides which flow sets it up, or why none can (seed "Prerequisites").
import { assign, fromPromise, setup } from 'xstate';
import type { ClusterFacts, ClusterKind, FlowName, ReadClusterInput } from './contract.ts';
import { classifyCluster, flowFor, supportProblem } from './domain/cluster.ts';

export interface PreflightOutput {
  kind: ClusterKind | null;
  flow: FlowName | null;
  facts: ClusterFacts | null;
  /** Why the setup cannot go on (unsupported cluster, or the cluster could not be read); null when it can. */
  problem: string | null;
}

export function decide(facts: ClusterFacts): PreflightOutput {
  const kind = classifyCluster(facts);
  const problem = supportProblem(facts);
  return { kind, flow: problem === null ? flowFor(kind) : null, facts, problem };
}

export const preflightMachine = setup({
  types: {
    input: {} as { clusterId: string },
    context: {} as { clusterId: string; result: PreflightOutput | null },
    output: {} as PreflightOutput,
  },
  actors: {
    readCluster: fromPromise<ClusterFacts, ReadClusterInput>(async () => {
      throw new Error('readCluster not provided');
    }),
  },
}).createMachine({
  id: 'preflight',
  context: ({ input }) => ({ clusterId: input.clusterId, result: null }),
  initial: 'reading',
  states: {
    reading: {
      invoke: {
        id: 'readCluster',
        src: 'readCluster',
        input: ({ context }) => context.clusterId,
        onDone: { target: 'decided', actions: assign({ result: ({ event }) => decide(event.output) }) },
        onError: {
          target: 'decided',
          actions: assign({
            result: ({ event }) => ({
              kind: null,
              flow: null,
              facts: null,
              problem: event.error instanceof Error ? event.error.message : String(event.error),
            }),
          }),
        },
      },
    },
    decided: { type: 'final' },
  },
  output: ({ context }) => context.result!,
});
