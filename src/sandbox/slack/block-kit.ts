// Block Kit validation as Slack's chat.postMessage / chat.update apply it: a message whose blocks break a
// rule is refused with `invalid_blocks` and the reasons in response_metadata.messages.
// Covers the blocks and elements the bot sends; any other type is refused as unknown.

type Json = Record<string, unknown>;

export const LIMITS = {
  blocks: 50,
  blockId: 255,
  actionId: 255,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  /** "Maximum length for this field is 75 characters" (https://api.slack.com/reference/block-kit/block-elements#button). */
  accessibilityLabel: 75,
  url: 3000,
  selectOptions: 100,
  optionText: 75,
  optionValue: 150,
  placeholder: 150,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  altText: 2000,
  /** Input block (https://api.slack.com/reference/block-kit/blocks#input): label and hint 2000, plain_text_input max_length 3000. */
  inputLabel: 2000,
  inputLength: 3000,
  /** A modal's title, submit and close texts; its private_metadata; its blocks (https://api.slack.com/reference/surfaces/views). */
  viewButton: 24,
  privateMetadata: 3000,
  viewBlocks: 100,
  /** Cumulative text of a message's blocks (msg_blocks_too_long); see api.ts for the sources. */
  messageText: 11_000,
} as const;

/** The characters of every `text` string in the blocks, as msg_blocks_too_long counts them. */
export function blocksTextLength(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + blocksTextLength(item), 0);
  if (!isObject(value)) return 0;
  let sum = 0;
  for (const [key, item] of Object.entries(value)) {
    sum += key === 'text' && typeof item === 'string' ? item.length : blocksTextLength(item);
  }
  return sum;
}

/** Returns Slack-style problem messages; an empty list means the blocks are valid. */
export function blockProblems(blocks: unknown): string[] {
  const problems: string[] = [];
  if (!Array.isArray(blocks)) return ['[ERROR] must be an array [json-pointer:/blocks]'];
  if (blocks.length > LIMITS.blocks) problems.push(`[ERROR] no more than ${LIMITS.blocks} items allowed [json-pointer:/blocks]`);
  const blockIds = new Set<string>();
  const actionIds = new Set<string>();
  blocks.forEach((block, i) => checkBlock(block, `/blocks/${i}`, { problems, blockIds, actionIds }));
  return problems;
}

interface Scope {
  problems: string[];
  blockIds: Set<string>;
  actionIds: Set<string>;
}

function checkBlock(block: unknown, at: string, scope: Scope): void {
  const p = scope.problems;
  if (!isObject(block)) return void p.push(`[ERROR] must be an object [json-pointer:${at}]`);
  if (block.block_id !== undefined) {
    if (!checkString(block.block_id, LIMITS.blockId, `${at}/block_id`, p)) return;
    const id = block.block_id as string;
    if (scope.blockIds.has(id)) p.push(`[ERROR] duplicate block_id "${id}" [json-pointer:${at}/block_id]`);
    scope.blockIds.add(id);
  }
  switch (block.type) {
    case 'section':
      return checkSection(block, at, scope);
    case 'header':
      return checkText(block.text, `${at}/text`, p, { max: LIMITS.headerText, plainOnly: true, required: true });
    case 'divider':
      return;
    case 'context':
      return checkContext(block, at, p);
    case 'actions':
      return checkActions(block, at, scope);
    case 'image':
      return checkImage(block, at, p);
    case 'rich_text':
      return checkRichText(block, at, p);
    case 'input':
      return checkInput(block, at, scope);
    default:
      p.push(`[ERROR] unsupported type: ${JSON.stringify(block.type)} [json-pointer:${at}/type]`);
  }
}

function checkSection(block: Json, at: string, scope: Scope): void {
  const p = scope.problems;
  if (block.text === undefined && block.fields === undefined) {
    p.push(`[ERROR] must provide either text or fields [json-pointer:${at}]`);
  }
  if (block.text !== undefined) checkText(block.text, `${at}/text`, p, { max: LIMITS.sectionText });
  if (block.fields !== undefined) {
    if (!Array.isArray(block.fields) || block.fields.length === 0 || block.fields.length > LIMITS.sectionFields) {
      p.push(`[ERROR] must be an array of 1 to ${LIMITS.sectionFields} text objects [json-pointer:${at}/fields]`);
    } else {
      block.fields.forEach((f, i) => checkText(f, `${at}/fields/${i}`, p, { max: LIMITS.fieldText }));
    }
  }
  if (block.accessory !== undefined) checkElement(block.accessory, `${at}/accessory`, scope, true);
}

// rich_text as the bot sends it: sections and preformatted blocks of text, link, user, user group and date elements
// (api.slack.com/reference/block-kit/blocks#rich_text, docs.slack.dev/reference/block-kit/blocks/rich-text-block).
const RICH_CONTAINERS = new Set(['rich_text_section', 'rich_text_preformatted']);
const RICH_STYLES = new Set(['bold', 'italic', 'strike', 'code']);

function checkRichText(block: Json, at: string, p: string[]): void {
  const containers = block.elements;
  if (!Array.isArray(containers) || containers.length === 0) return void p.push(`[ERROR] must be a non-empty array [json-pointer:${at}/elements]`);
  containers.forEach((container, i) => {
    const where = `${at}/elements/${i}`;
    if (!isObject(container) || !RICH_CONTAINERS.has(container.type as string)) return void p.push(`[ERROR] unsupported type [json-pointer:${where}/type]`);
    if (!Array.isArray(container.elements)) return void p.push(`[ERROR] must be an array [json-pointer:${where}/elements]`);
    container.elements.forEach((element, j) => checkRichElement(element, `${where}/elements/${j}`, p));
  });
}

function checkRichElement(element: unknown, at: string, p: string[]): void {
  if (!isObject(element)) return void p.push(`[ERROR] must be an object [json-pointer:${at}]`);
  if (element.style !== undefined) {
    if (!isObject(element.style) || Object.entries(element.style).some(([k, v]) => !RICH_STYLES.has(k) || typeof v !== 'boolean')) {
      p.push(`[ERROR] invalid style [json-pointer:${at}/style]`);
    }
  }
  switch (element.type) {
    case 'text':
      if (typeof element.text !== 'string' || element.text === '') p.push(`[ERROR] must be a non-empty string [json-pointer:${at}/text]`);
      return;
    case 'user':
      if (typeof element.user_id !== 'string') p.push(`[ERROR] missing required field: user_id [json-pointer:${at}]`);
      return;
    case 'usergroup':
      if (typeof element.usergroup_id !== 'string') p.push(`[ERROR] missing required field: usergroup_id [json-pointer:${at}]`);
      return;
    case 'link':
      if (typeof element.url !== 'string') p.push(`[ERROR] missing required field: url [json-pointer:${at}]`);
      return;
    case 'date':
      if (typeof element.timestamp !== 'number' || typeof element.format !== 'string') p.push(`[ERROR] date needs timestamp and format [json-pointer:${at}]`);
      return;
    default:
      p.push(`[ERROR] unsupported type: ${JSON.stringify(element.type)} [json-pointer:${at}/type]`);
  }
}

/** An input block with a plain_text_input, the one input element the bot uses. */
function checkInput(block: Json, at: string, scope: Scope): void {
  const p = scope.problems;
  checkText(block.label, `${at}/label`, p, { max: LIMITS.inputLabel, plainOnly: true, required: true });
  if (block.hint !== undefined) checkText(block.hint, `${at}/hint`, p, { max: LIMITS.inputLabel, plainOnly: true });
  if (block.optional !== undefined && typeof block.optional !== 'boolean') p.push(`[ERROR] must be a boolean [json-pointer:${at}/optional]`);
  const element = block.element;
  if (!isObject(element)) return void p.push(`[ERROR] missing required field: element [json-pointer:${at}]`);
  if (element.type !== 'plain_text_input') return void p.push(`[ERROR] unsupported type: ${JSON.stringify(element.type)} [json-pointer:${at}/element/type]`);
  if (element.action_id !== undefined && checkString(element.action_id, LIMITS.actionId, `${at}/element/action_id`, p)) {
    const id = element.action_id as string;
    if (scope.actionIds.has(id)) p.push(`[ERROR] duplicate action_id "${id}" [json-pointer:${at}/element/action_id]`);
    scope.actionIds.add(id);
  }
  if (element.placeholder !== undefined) checkText(element.placeholder, `${at}/element/placeholder`, p, { max: LIMITS.placeholder, plainOnly: true });
  for (const key of ['min_length', 'max_length'] as const) {
    const value = element[key];
    if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > LIMITS.inputLength)) {
      p.push(`[ERROR] must be an integer from 0 to ${LIMITS.inputLength} [json-pointer:${at}/element/${key}]`);
    }
  }
  if (element.multiline !== undefined && typeof element.multiline !== 'boolean') p.push(`[ERROR] must be a boolean [json-pointer:${at}/element/multiline]`);
}

function checkContext(block: Json, at: string, p: string[]): void {
  const elements = block.elements;
  if (!Array.isArray(elements) || elements.length === 0 || elements.length > LIMITS.contextElements) {
    return void p.push(`[ERROR] must be an array of 1 to ${LIMITS.contextElements} elements [json-pointer:${at}/elements]`);
  }
  elements.forEach((e, i) => {
    if (isObject(e) && e.type === 'image') checkImage(e, `${at}/elements/${i}`, p);
    else checkText(e, `${at}/elements/${i}`, p, { max: LIMITS.sectionText });
  });
}

function checkActions(block: Json, at: string, scope: Scope): void {
  const elements = block.elements;
  if (!Array.isArray(elements) || elements.length === 0 || elements.length > LIMITS.actionsElements) {
    return void scope.problems.push(
      `[ERROR] must be an array of 1 to ${LIMITS.actionsElements} elements [json-pointer:${at}/elements]`,
    );
  }
  elements.forEach((e, i) => checkElement(e, `${at}/elements/${i}`, scope, false));
}

function checkElement(element: unknown, at: string, scope: Scope, accessory: boolean): void {
  const p = scope.problems;
  if (!isObject(element)) return void p.push(`[ERROR] must be an object [json-pointer:${at}]`);
  if (accessory && element.type === 'image') return checkImage(element, at, p);
  if (element.type !== 'button' && element.type !== 'static_select') {
    return void p.push(`[ERROR] unsupported type: ${JSON.stringify(element.type)} [json-pointer:${at}/type]`);
  }
  if (element.action_id !== undefined && checkString(element.action_id, LIMITS.actionId, `${at}/action_id`, p)) {
    const id = element.action_id as string;
    if (scope.actionIds.has(id)) p.push(`[ERROR] duplicate action_id "${id}" [json-pointer:${at}/action_id]`);
    scope.actionIds.add(id);
  }
  if (element.confirm !== undefined) checkConfirm(element.confirm, `${at}/confirm`, p);
  if (element.type === 'button') checkButton(element, at, p);
  else checkStaticSelect(element, at, p);
}

function checkButton(button: Json, at: string, p: string[]): void {
  checkText(button.text, `${at}/text`, p, { max: LIMITS.buttonText, plainOnly: true, required: true });
  if (button.value !== undefined) checkString(button.value, LIMITS.buttonValue, `${at}/value`, p);
  if (button.url !== undefined) checkString(button.url, LIMITS.url, `${at}/url`, p);
  if (button.accessibility_label !== undefined) checkString(button.accessibility_label, LIMITS.accessibilityLabel, `${at}/accessibility_label`, p);
  if (button.style !== undefined && button.style !== 'primary' && button.style !== 'danger') {
    p.push(`[ERROR] must be one of "primary", "danger" [json-pointer:${at}/style]`);
  }
}

function checkStaticSelect(select: Json, at: string, p: string[]): void {
  if (select.placeholder !== undefined) {
    checkText(select.placeholder, `${at}/placeholder`, p, { max: LIMITS.placeholder, plainOnly: true });
  }
  const options = select.options;
  if (!Array.isArray(options) || options.length === 0 || options.length > LIMITS.selectOptions) {
    return void p.push(`[ERROR] must be an array of 1 to ${LIMITS.selectOptions} options [json-pointer:${at}/options]`);
  }
  const values = new Set<string>();
  options.forEach((option, i) => {
    checkOption(option, `${at}/options/${i}`, p);
    if (isObject(option) && typeof option.value === 'string') values.add(option.value);
  });
  if (select.initial_option !== undefined) {
    checkOption(select.initial_option, `${at}/initial_option`, p);
    const initial = isObject(select.initial_option) ? select.initial_option.value : undefined;
    if (typeof initial !== 'string' || !values.has(initial)) {
      p.push(`[ERROR] must match one of the provided options [json-pointer:${at}/initial_option]`);
    }
  }
}

function checkOption(option: unknown, at: string, p: string[]): void {
  if (!isObject(option)) return void p.push(`[ERROR] must be an object [json-pointer:${at}]`);
  checkText(option.text, `${at}/text`, p, { max: LIMITS.optionText, plainOnly: true, required: true });
  if (option.value === undefined) p.push(`[ERROR] missing required field: value [json-pointer:${at}]`);
  else checkString(option.value, LIMITS.optionValue, `${at}/value`, p);
}

function checkConfirm(confirm: unknown, at: string, p: string[]): void {
  if (!isObject(confirm)) return void p.push(`[ERROR] must be an object [json-pointer:${at}]`);
  checkText(confirm.title, `${at}/title`, p, { max: LIMITS.confirmTitle, plainOnly: true, required: true });
  checkText(confirm.text, `${at}/text`, p, { max: LIMITS.confirmText, required: true });
  checkText(confirm.confirm, `${at}/confirm`, p, { max: LIMITS.confirmButton, plainOnly: true, required: true });
  checkText(confirm.deny, `${at}/deny`, p, { max: LIMITS.confirmButton, plainOnly: true, required: true });
}

function checkImage(image: Json, at: string, p: string[]): void {
  if (image.image_url === undefined) p.push(`[ERROR] missing required field: image_url [json-pointer:${at}]`);
  else checkString(image.image_url, LIMITS.url, `${at}/image_url`, p);
  if (image.alt_text === undefined) p.push(`[ERROR] missing required field: alt_text [json-pointer:${at}]`);
  else checkString(image.alt_text, LIMITS.altText, `${at}/alt_text`, p);
}

/**
 * A modal view as views.open validates it (https://api.slack.com/reference/surfaces/views): type "modal";
 * title, submit and close plain_text of at most 24 characters, title required, submit required when the
 * view has an input block; callback_id at most 255 characters; private_metadata at most 3000; at most
 * 100 blocks, each valid.
 */
export function viewProblems(view: unknown): string[] {
  if (!isObject(view)) return ['[ERROR] must be an object [json-pointer:/view]'];
  const p: string[] = [];
  if (view.type !== 'modal') p.push('[ERROR] must be one of "modal" [json-pointer:/view/type]');
  checkText(view.title, '/view/title', p, { max: LIMITS.viewButton, plainOnly: true, required: true });
  const blocks = Array.isArray(view.blocks) ? view.blocks : [];
  const hasInput = blocks.some((b) => isObject(b) && b.type === 'input');
  if (hasInput && view.submit === undefined) p.push('[ERROR] must provide a submit property when using input blocks [json-pointer:/view]');
  if (view.submit !== undefined) checkText(view.submit, '/view/submit', p, { max: LIMITS.viewButton, plainOnly: true });
  if (view.close !== undefined) checkText(view.close, '/view/close', p, { max: LIMITS.viewButton, plainOnly: true });
  if (view.callback_id !== undefined) checkString(view.callback_id, LIMITS.actionId, '/view/callback_id', p);
  if (view.private_metadata !== undefined && (typeof view.private_metadata !== 'string' || view.private_metadata.length > LIMITS.privateMetadata)) {
    p.push(`[ERROR] must be a string of at most ${LIMITS.privateMetadata} characters [json-pointer:/view/private_metadata]`);
  }
  if (!Array.isArray(view.blocks)) return [...p, '[ERROR] must be an array [json-pointer:/view/blocks]'];
  if (blocks.length > LIMITS.viewBlocks) p.push(`[ERROR] no more than ${LIMITS.viewBlocks} items allowed [json-pointer:/view/blocks]`);
  const scope: Scope = { problems: p, blockIds: new Set(), actionIds: new Set() };
  blocks.forEach((block, i) => checkBlock(block, `/view/blocks/${i}`, scope));
  return p;
}

function checkText(
  text: unknown,
  at: string,
  p: string[],
  rule: { max: number; plainOnly?: boolean; required?: boolean },
): void {
  if (text === undefined) {
    if (rule.required) p.push(`[ERROR] missing required field: text [json-pointer:${at}]`);
    return;
  }
  if (!isObject(text)) return void p.push(`[ERROR] must be a text object [json-pointer:${at}]`);
  if (text.type !== 'plain_text' && (rule.plainOnly || text.type !== 'mrkdwn')) {
    const allowed = rule.plainOnly ? '"plain_text"' : '"plain_text", "mrkdwn"';
    return void p.push(`[ERROR] must be one of ${allowed} [json-pointer:${at}/type]`);
  }
  if (text.emoji !== undefined && text.type !== 'plain_text') {
    p.push(`[ERROR] emoji is only allowed on plain_text [json-pointer:${at}/emoji]`);
  }
  if (typeof text.text !== 'string' || text.text.length === 0) {
    return void p.push(`[ERROR] must be more than 0 characters [json-pointer:${at}/text]`);
  }
  if (text.text.length > rule.max) p.push(`[ERROR] must be less than ${rule.max + 1} characters [json-pointer:${at}/text]`);
}

function checkString(value: unknown, max: number, at: string, p: string[]): boolean {
  if (typeof value !== 'string' || value.length === 0) {
    p.push(`[ERROR] must be a non-empty string [json-pointer:${at}]`);
    return false;
  }
  if (value.length > max) {
    p.push(`[ERROR] must be less than ${max + 1} characters [json-pointer:${at}]`);
    return false;
  }
  return true;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
