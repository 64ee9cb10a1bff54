import { ackLatency } from './ack-latency.ts';
const r = await ackLatency();
console.log(JSON.stringify(r.figures, null, 1));
process.exit(0);
