// The questions a flow asks, their choices (suggested default first) and how answers are checked.
import type { Prompt, QuestionId } from './contract.ts';
import type { FlowContext } from './blocks/context.ts';
import { apiGatewayGuidance, managedRoleGuidance, needsApiGatewayAuthorization } from './domain/guidance.ts';
import { isCnfsOssBucket, suggestedBucketName } from './domain/names.ts';
import { isPro, vaultsOf } from './domain/cluster.ts';
import { SERVICE_ORDER, serviceLine } from './domain/services.ts';
import { MAX_BUCKETS_PER_REGION, bucketChoiceProblem, regionProblem } from './domain/oss.ts';
import { code } from './domain/inline.js';

export type AskedQuestion = Exclude<QuestionId, 'confirmPlan' | 'fix'>;
export type QuestionPrompt = Extract<Prompt, { kind: 'question' }>;

export const RECHECK = 'recheck';
export const CANCEL = 'cancel';
export const SKIP = 'skip';
/** Sandbox only: do a console-only authorization in the emulated console. */
export const EMULATED_CONSOLE = 'emulatedConsole';
/** Answers to a failed test backup. */
export const UPDATE_POLICY = 'updatePolicy';
export const RETEST = 'retest';
export const STOP = 'stop';

/** The policy step can fix the failure: the component's policy refused it and this setup manages that policy. */
export function policyFixOffered(context: FlowContext): boolean {
  return !context.testOnly && context.testFailure?.remedy === 'updatePolicy' && context.plan.steps.some((s) => s.request.step === 'ensurePolicy');
}

export function questionPrompt(questionId: AskedQuestion, context: FlowContext): QuestionPrompt {
  const { facts } = context;
  switch (questionId) {
    case 'region':
      return {
        kind: 'question',
        questionId,
        text:
          `In which region should the backups be stored? The cluster is in ${facts.region}; ` +
          'a bucket in the same region is faster. Pick one or type a region id.',
        choices: regionChoices(context).map((region) => ({
          label: region === facts.region ? `${region} (cluster region)` : vaultsOf(facts).some((v) => v.region === region) ? `${region} (its vault's bucket)` : region,
          value: region,
        })),
        freeText: true,
      };
    case 'bucket':
      return {
        kind: 'question',
        questionId,
        text:
          `Which OSS bucket in ${context.region} should hold the backups? ${bucketPermissionNote(context)} ` +
          (regionIsFull(context) ? `The account already has ${MAX_BUCKETS_PER_REGION} buckets in ${context.region}, the most OSS allows, so pick an existing one.` : 'A name that does not exist yet creates the bucket.') +
          ' Pick one or type a name.',
        choices: bucketChoices(context),
        freeText: true,
      };
    case 'bucketScope':
      return {
        kind: 'question',
        questionId,
        text: `Should the RAM policy of migrate-controller allow only bucket ${code(context.bucket ?? '')}, or every bucket of the account?`,
        choices: [
          { label: `Only bucket ${context.bucket} (recommended)`, value: 'bucket' },
          { label: 'All buckets', value: 'all' },
        ],
        freeText: false,
      };
    case 'managedRole':
      return {
        kind: 'question',
        questionId,
        text: managedRoleGuidance(facts.name),
        choices: [
          { label: 'I have authorized it — check again', value: RECHECK },
          ...emulatedConsoleChoice(context),
          { label: 'Cancel', value: CANCEL },
        ],
        freeText: false,
      };
    case 'testBackupFailed':
      return {
        kind: 'question',
        questionId,
        text:
          `❌ The test backup failed: ${context.testFailure?.message ?? 'the backup component reported a failure.'} ` +
          (policyFixOffered(context)
            ? 'Approve the policy update (the policy step shows the change first), then the test runs again; or fix it yourself and test again.'
            : 'Fix it, then test again.'),
        choices: [
          ...(policyFixOffered(context) ? [{ label: 'Update the policy, then test again', value: UPDATE_POLICY }] : []),
          { label: policyFixOffered(context) ? 'I fixed it myself — test again' : 'I fixed it — test again', value: RETEST },
          { label: 'Stop here', value: STOP },
        ],
        freeText: false,
      };
    case 'apiGateway':
      return {
        kind: 'question',
        questionId,
        text: apiGatewayGuidance(facts.region),
        choices: [
          { label: 'Done — check again', value: RECHECK },
          ...emulatedConsoleChoice(context),
          { label: 'Skip for now', value: SKIP },
        ],
        freeText: false,
      };
  }
}

/** The sandbox's stand-in for a console click, offered only where the console is emulated. */
function emulatedConsoleChoice(context: FlowContext): QuestionPrompt['choices'] {
  return context.facts.emulatedConsole ? [{ label: 'Authorize in the emulated console', value: EMULATED_CONSOLE }] : [];
}

/** The cluster region first, or, when the cluster already has a vault, the region of the vault's bucket. */
function regionChoices(context: FlowContext): string[] {
  const first = vaultsOf(context.facts)[0]?.region ?? context.facts.region;
  const others = [context.facts.region, ...context.facts.buckets.map((b) => b.region)].filter((r) => r !== first);
  return [first, ...[...new Set(others)].sort()];
}

/** What the bucket choice means for permissions, said plainly where a long-lived AccessKey follows from it. */
function bucketPermissionNote(context: FlowContext): string {
  const longLived = 'a RAM user whose long-lived AccessKey (it does not expire) is stored in a Secret in the cluster';
  if (context.kind === 'dedicated' || context.kind === 'registered') return `Whichever bucket you pick, the setup creates ${longLived}.`;
  if (!isPro(context.facts)) return `This is an ACK Basic cluster: any bucket needs ${longLived} (the cnfs-oss- exemption is for ACK Pro only).`;
  return `A bucket whose name starts with cnfs-oss- needs no OSS permission; any other bucket needs ${longLived}.`;
}

const regionIsFull = (context: FlowContext) =>
  context.facts.buckets.filter((b) => b.region === context.region).length >= MAX_BUCKETS_PER_REGION;

function bucketChoices(context: FlowContext): QuestionPrompt['choices'] {
  const inRegion = context.facts.buckets
    .filter((b) => b.region === context.region)
    .map((b) => b.name)
    .sort();
  const cnfs = inRegion.find(isCnfsOssBucket);
  // A second run suggests what the cluster uses now: a different bucket would take its vault's access away.
  const inUse = vaultsOf(context.facts).find((v) => v.region === context.region && inRegion.includes(v.bucket))?.bucket;
  const suggested = regionIsFull(context) ? null : suggestedBucketName(context.facts.clusterId);
  const names = [...new Set([inUse ?? cnfs ?? suggested ?? inRegion[0]!, ...inRegion])];
  if (suggested && !names.includes(suggested)) names.push(suggested);
  return names.map((name) => ({ label: inRegion.includes(name) ? `${name} (existing)` : `${name} (new)`, value: name }));
}

/** Why an answer cannot be taken, said to the person who typed it; null when it can. */
export function answerProblem(questionId: AskedQuestion, context: FlowContext, value: string): string | null {
  const prompt = questionPrompt(questionId, context);
  if (prompt.choices.some((choice) => choice.value === value) && questionId !== 'bucket') return null;
  if (!prompt.freeText) {
    const valid = prompt.choices.map((choice) => `"${choice.label}"`).join(' or ');
    return `"${value}" is not an answer to this question: choose ${valid}.`;
  }
  if (questionId === 'region') return regionProblem(value);
  return bucketChoiceProblem(value, context.region ?? context.facts.region, context.facts.buckets);
}

export function recordAnswer(questionId: AskedQuestion, value: string): Partial<FlowContext> {
  switch (questionId) {
    case 'region':
      return { region: value };
    case 'bucket':
      return { bucket: value };
    case 'bucketScope':
      return { bucketScope: value === 'all' ? 'all' : 'bucket' };
    case 'managedRole':
    case 'apiGateway':
    case 'testBackupFailed':
      return {};
  }
}

/** The console prerequisite behind a confirmation question is in place (or not needed). */
export function prerequisiteMet(questionId: 'managedRole' | 'apiGateway', context: FlowContext): boolean {
  const { facts } = context;
  if (questionId === 'managedRole') return facts.managedRoleAuthorized !== false;
  return !needsApiGatewayAuthorization(facts.region) || facts.apiGatewayAuthorized !== false;
}

export function recheckNotice(questionId: 'managedRole' | 'apiGateway', met: boolean): string {
  if (questionId === 'managedRole') {
    return met
      ? 'Found the AliyunCSManagedBackupRestoreRole authorization (its token Secret is in kube-system). Continuing.'
      : 'The AliyunCSManagedBackupRestoreRole authorization is still missing: no `addon.aliyuncsmanagedbackuprestorerole.token` Secret in `kube-system`. It can take a minute to appear after the authorization; check again.';
  }
  return met
    ? 'Found the Cloud Backup API Gateway authorization (role `AliyunServiceRoleForHbrMagpieBridge`). Continuing.'
    : 'The Cloud Backup API Gateway authorization is still missing: role `AliyunServiceRoleForHbrMagpieBridge` does not exist yet. Confirm the dialog in the Cloud Backup console for the cluster region, then check again.';
}

/** The plan's prerequisites, each with its state: what was checked before any change. */
export function prerequisiteLines(context: FlowContext): string[] {
  const { facts } = context;
  const lines = SERVICE_ORDER.map((service) => serviceLine(facts, service));
  if (facts.managedRoleAuthorized !== null) lines.push(`${facts.managedRoleAuthorized ? '✅' : '❌'} AliyunCSManagedBackupRestoreRole authorized`);
  if (needsApiGatewayAuthorization(facts.region)) {
    lines.push(
      facts.apiGatewayAuthorized
        ? `✅ Cloud Backup authorized to use API Gateway in ${facts.region}`
        : `⚠️ Cloud Backup not authorized to use API Gateway in ${facts.region}: skipped for now, a manual step left`,
    );
  }
  return lines;
}

/** The manual step a skipped API Gateway authorization leaves. */
export function apiGatewayManualStep(region: string): string {
  return `authorize Cloud Backup to use API Gateway in ${region} (Cloud Backup console, once per account)`;
}

export function apiGatewaySkippedReminder(region: string): string {
  return `Grant Cloud Backup permission to use API Gateway in ${region} (Cloud Backup console, once per account); until then backup and restore jobs there fail with MagpieBridgeSlrNotExist.`;
}

/**
 * The answer given when nobody is at hand (a fleet setup): the suggested choice, except where the
 * question asks a person to do something first — those skip what can be skipped or stop the cluster.
 */
export function unattendedAnswer(prompt: QuestionPrompt): string | null {
  switch (prompt.questionId) {
    case 'managedRole':
      return CANCEL;
    case 'apiGateway':
      return SKIP;
    case 'testBackupFailed':
      return STOP;
    default:
      return prompt.choices[0]?.value ?? null;
  }
}
