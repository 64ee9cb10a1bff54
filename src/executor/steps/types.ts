// The shape of one privileged step: what it is, what it would change, and doing it.
import type { StepName, StepOutcome, StepParamsByName, StepPreview } from '../../../flows/contract.ts';
import type { StepMeta } from '../contract.ts';
import type { ExecContext } from '../context.ts';

export interface StepModule<K extends StepName> {
  meta: StepMeta & { step: K };
  preview(params: StepParamsByName[K], ctx: ExecContext): Promise<StepPreview>;
  apply(params: StepParamsByName[K], ctx: ExecContext): Promise<StepOutcome>;
}
