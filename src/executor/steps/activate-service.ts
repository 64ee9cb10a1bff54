// activateCloudBackup / activateOss / activateSnapshot: open a service the setup needs (service-state.ts has the APIs and
// codes). Rated high: it accepts the service's terms and cannot be undone; the approval says so and what it costs.
import type { ActivateServiceParams, StepName, StepOutcome, StepPreview } from '../../../flows/contract.ts';
import { activationChanges, SERVICES, serviceWhere } from '../../../flows/domain/services.ts';
import { StepError } from '../contract.ts';
import type { ExecContext } from '../context.ts';
import { listBuckets } from '../reads.ts';
import { openService, serviceState, STATE_READS } from '../service-state.ts';
import type { StepModule } from './types.ts';

type ActivationStep = Extract<StepName, 'activateCloudBackup' | 'activateOss' | 'activateSnapshot'>;

function stateOf(ctx: ExecContext, params: ActivateServiceParams) {
  return serviceState(ctx, params.service, params.region, () => listBuckets(ctx, params.region));
}

function activationStep<K extends ActivationStep>(step: K, service: ActivateServiceParams['service']): StepModule<K> {
  const info = SERVICES[service];
  const meta = {
    step, title: `Activate ${info.label}`, risk: 'high' as const,
    riskReason: 'activates a service for the whole account: it accepts its terms of service, its use is billed, and it cannot be undone here',
    apis: [STATE_READS[service], info.permission], timeoutMs: 60_000,
  };

  async function preview(params: ActivateServiceParams, ctx: ExecContext): Promise<StepPreview> {
    if ((await stateOf(ctx, params)) === 'on') {
      return { step, upToDate: true, changes: [`${serviceWhere(params.service, params.region)} is already activated`] };
    }
    return { step, upToDate: false, changes: activationChanges(params.service, params.region) };
  }

  async function apply(params: ActivateServiceParams, ctx: ExecContext): Promise<StepOutcome> {
    const name = serviceWhere(params.service, params.region);
    if ((await stateOf(ctx, params)) === 'on') return { step, outcome: 'already present', detail: `${name} was already activated` };
    const opened = await openService(ctx, params.service, params.region);
    if ((await stateOf(ctx, params)) === 'off') {
      throw new StepError(step, 'ServiceStillOff', `${info.api} was accepted, but ${name} still reads as not activated: wait a minute, then run the setup again (or activate it in the console: ${info.console}).`, true);
    }
    ctx.logger.info({ service: params.service, region: params.region }, 'activated service');
    return opened
      ? { step, outcome: 'created', detail: `Activated ${name}` }
      : { step, outcome: 'already present', detail: `${name} was already activated` };
  }

  return { meta, preview, apply };
}

export const activateCloudBackup = activationStep('activateCloudBackup', 'cloudBackup');
export const activateOss = activationStep('activateOss', 'oss');
export const activateSnapshot = activationStep('activateSnapshot', 'snapshot');
