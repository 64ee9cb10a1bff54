// The emulated account in a process of its own, so a benchmark measures the bot's memory and CPU
// without the emulators'. Prints one JSON line (endpoints and the bot's credentials), then serves
// until killed. Argument: the number of copies of c-sandbox-dedicated to add (c-scale-00000, …).
import { startSandbox } from '../src/sandbox/index.ts';
import { cloneClusters } from '../test/support/sandbox-state.ts';

const copies = Number(process.argv[2] ?? 0);
const sandbox = await startSandbox();
cloneClusters(sandbox, 'c-sandbox-dedicated', Array.from({ length: copies }, (_, i) => `c-scale-${String(i).padStart(5, '0')}`));
process.stdout.write(`${JSON.stringify({ endpoints: sandbox.endpoints, botCredentials: sandbox.botCredentials })}\n`);
