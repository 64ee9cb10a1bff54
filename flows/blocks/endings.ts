// The final states every flow ends in; each writes the closing message (the machine's output).
import { flowSetup } from './setup.ts';

export const endings = {
  complete: flowSetup.createStateConfig({ id: 'complete', type: 'final', entry: { type: 'close', params: { status: 'complete' } } }),
  denied: flowSetup.createStateConfig({ id: 'denied', type: 'final', entry: { type: 'close', params: { status: 'denied' } } }),
  expired: flowSetup.createStateConfig({ id: 'expired', type: 'final', entry: { type: 'close', params: { status: 'expired' } } }),
  failed: flowSetup.createStateConfig({ id: 'failed', type: 'final', entry: { type: 'close', params: { status: 'failed' } } }),
  cancelled: flowSetup.createStateConfig({ id: 'cancelled', type: 'final', entry: { type: 'close', params: { status: 'cancelled' } } }),
};
