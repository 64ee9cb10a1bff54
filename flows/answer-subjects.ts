// What an answer names, for the line that records it in the thread ("Riley chose bucket `my-backups`").
import type { QuestionId } from './contract.ts';

/** Questions whose answer is a resource name; the others are recorded by the label of the choice. */
export const ANSWER_SUBJECT: Partial<Record<QuestionId, string>> = {
  region: 'region',
  bucket: 'bucket',
};
