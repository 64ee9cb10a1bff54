// The emulated account in a process of its own, so a benchmark measures the bot's memory and CPU
// without the emulators'. Prints one JSON line (endpoints and the bot's credentials), then serves
// until killed. Arguments: how many copies of the template cluster to add (c-scale-00000, …), the
// template, and a latency for every RAM, CS, OSS and Kubernetes call (a remote cloud).
import { startSandbox } from '../src/sandbox/index.ts';
import { cloneClusters } from '../test/support/sandbox-state.ts';

const [copies = '0', template = 'c-sandbox-dedicated', latencyMs = '0'] = process.argv.slice(2);
const sandbox = await startSandbox();
cloneClusters(sandbox, template, Array.from({ length: Number(copies) }, (_, i) => `c-scale-${String(i).padStart(5, '0')}`));
if (Number(latencyMs) > 0) {
  for (const plan of Object.values(sandbox.faults)) plan.add({ operation: '*', fault: { kind: 'latency', ms: Number(latencyMs) } });
}
process.stdout.write(`${JSON.stringify({ endpoints: sandbox.endpoints, botCredentials: sandbox.botCredentials })}\n`);
