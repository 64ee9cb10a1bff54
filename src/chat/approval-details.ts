// What an approval message shows besides its preview, the same on every platform.
import type { StepRequest } from '../../flows/contract.ts';

/** The parameters a person checks before approving (the policy document is shown on its own). */
export function resources(request: StepRequest): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.params)) {
    if (name === 'document' || value === null || typeof value === 'object') continue;
    shown[name] = String(value);
  }
  return shown;
}

export function policyDocument(request: StepRequest): string | null {
  return request.step === 'ensurePolicy' ? JSON.stringify(request.params.document, null, 2) : null;
}

/** "createRamUser" → "Create ram user", used when the reply carries no title. */
export function stepTitle(step: string): string {
  const words = step.replace(/([A-Z])/g, ' $1').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
