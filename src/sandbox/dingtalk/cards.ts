// Interactive cards of the DingTalk OpenAPI: createAndDeliver into an IM group and later updates,
// plus the request checks and error shape the OpenAPI routes share. Cards use DingTalk's public
// MarkdownButton template, whose variables are checked as the template renders them.
import { randomBytes } from 'node:crypto';
import { ServiceError } from '../http.ts';

/**
 * The public MarkdownButton template (open-dingtalk/dingtalk-stream-sdk-python,
 * dingtalk_stream/card_instance.py, MarkdownButtonCardInstance): variables `markdown`, `title`, `tips`,
 * `logo` and `sys_full_json_obj` = JSON {msgButtons: [{text, color, id, request, params}]}. A button
 * with `request: true` sends a card callback carrying `cardPrivateData: {actionIds: [id], params}`.
 */
export const MARKDOWN_BUTTON_TEMPLATE_ID = '1366a1eb-bc54-4859-ac88-517c56a9acb1.schema';
const TEMPLATE_VARIABLES = new Set(['markdown', 'title', 'tips', 'logo', 'sys_full_json_obj']);
/** DingTalk cuts card markdown at 5,000 characters (issue 14, measured); the stricter reading refuses it. */
const MAX_CARD_MARKDOWN = 5_000;

/** A msgButtons entry as the template renders it. */
export interface RenderedButton {
  id: string;
  text: string;
  /** Sent back as cardPrivateData.params by a click. */
  params: Record<string, string>;
}

/** What a person sees of a card: the template's variables as rendered. */
export interface RenderedCard {
  title: string;
  markdown: string;
  buttons: RenderedButton[];
  /** Staff ids the delivery @-mentioned (imGroupOpenDeliverModel.atUserIds), with the names shown. */
  mentions: Record<string, string>;
}

/** The api.dingtalk.com error body is {code, message, requestid}; the status travels separately. */
export class OpenApiError extends ServiceError {}

export type Body = Record<string, unknown>;

/** Missing parameters answer 400 `Missing<name>` / "<name> is mandatory for this action.", as the gateway does. */
export function requireString(body: Body, field: string, path = field): string {
  const value = body[field];
  if (value === undefined || value === null || value === '') throw new OpenApiError(400, `Missing${path}`, `${path} is mandatory for this action.`);
  if (typeof value !== 'string') throw invalid(path, 'must be a string');
  return value;
}

export function requireObject(body: Body, field: string, path = field): Body {
  const value = body[field];
  if (value === undefined || value === null) throw new OpenApiError(400, `Missing${path}`, `${path} is mandatory for this action.`);
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(path, 'must be an object');
  return value as Body;
}

export function invalid(field: string, why: string): OpenApiError {
  return new OpenApiError(400, 'param.invalid', `${field} ${why}`);
}

/** cardParamMap values are strings on the wire; complex values are JSON-encoded by the caller. */
function cardParamMap(cardData: Body, path: string): Record<string, string> {
  const map = requireObject(cardData, 'cardParamMap', `${path}.cardParamMap`);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(map)) {
    if (typeof value !== 'string') throw invalid(`${path}.cardParamMap.${key}`, 'must be a string');
    out[key] = value;
  }
  return out;
}

export interface Card {
  outTrackId: string;
  conversationId: string;
  callbackType: string;
  cardParamMap: Record<string, string>;
  mentions: Record<string, string>;
  updates: number;
}

/** Checks a card's variables against the MarkdownButton template; `whole` when they are all there is. */
function checkTemplateVariables(params: Record<string, string>, path: string, whole: boolean): void {
  for (const key of Object.keys(params)) {
    if (!TEMPLATE_VARIABLES.has(key)) throw invalid(`${path}.cardParamMap.${key}`, 'is not a variable of the MarkdownButton template');
  }
  if (whole && params.markdown === undefined) throw invalid(`${path}.cardParamMap.markdown`, 'is required by the MarkdownButton template');
  if (params.markdown !== undefined && params.markdown.length > MAX_CARD_MARKDOWN) {
    throw invalid(`${path}.cardParamMap.markdown`, `is ${params.markdown.length} characters; a card shows at most ${MAX_CARD_MARKDOWN}`);
  }
  if (params.sys_full_json_obj !== undefined) buttonsOf(params.sys_full_json_obj, `${path}.cardParamMap.sys_full_json_obj`);
}

/** The buttons of sys_full_json_obj, each checked: text, an id, request true and string params. */
export function buttonsOf(json: string, path = 'sys_full_json_obj'): RenderedButton[] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw invalid(path, 'must be a JSON string');
  }
  const list = (value as { msgButtons?: unknown } | null)?.msgButtons;
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw invalid(`${path}.msgButtons`, 'must be an array');
  return list.map((button: unknown, i) => {
    const at = `${path}.msgButtons[${i}]`;
    const b = (typeof button === 'object' && button !== null ? button : {}) as Body;
    if (typeof b.text !== 'string' || b.text === '') throw invalid(`${at}.text`, 'must be a non-empty string');
    if (b.request !== true) throw invalid(`${at}.request`, 'must be true for a button that calls back (a button without it opens a URL)');
    if (typeof b.id !== 'string' || b.id === '') throw invalid(`${at}.id`, 'must be a non-empty string');
    const params = b.params;
    if (typeof params !== 'object' || params === null || Array.isArray(params)) throw invalid(`${at}.params`, 'must be an object');
    for (const [key, v] of Object.entries(params)) if (typeof v !== 'string') throw invalid(`${at}.params.${key}`, 'must be a string');
    return { id: b.id, text: b.text, params: params as Record<string, string> };
  });
}

/** imGroupOpenDeliverModel.atUserIds: staff id → name (alibabacloud dingtalk SDK, DeliverCardRequestImGroupOpenDeliverModel). */
function mentionsOf(deliver: Body): Record<string, string> {
  const at = deliver['atUserIds'];
  if (at === undefined) return {};
  if (typeof at !== 'object' || at === null || Array.isArray(at)) throw invalid('imGroupOpenDeliverModel.atUserIds', 'must be an object of staff id to name');
  for (const [id, name] of Object.entries(at)) {
    if (id === '' || typeof name !== 'string') throw invalid(`imGroupOpenDeliverModel.atUserIds.${id}`, 'must map a staff id to a name');
  }
  return at as Record<string, string>;
}

const GROUP_SPACE = /^dtv1\.card\/\/IM_GROUP\.(.+)$/;

export class CardStore {
  private readonly byId = new Map<string, Card>();
  private readonly robotCode: string;

  constructor(config: { robotCode: string }) {
    this.robotCode = config.robotCode;
  }

  /** POST /v1.0/card/instances/createAndDeliver, IM_GROUP spaces only. */
  createAndDeliver(body: Body): unknown {
    const cardTemplateId = requireString(body, 'cardTemplateId');
    const outTrackId = requireString(body, 'outTrackId');
    const cardParams = cardParamMap(requireObject(body, 'cardData'), 'cardData');
    const openSpaceId = requireString(body, 'openSpaceId');
    const callbackType = body['callbackType'] === undefined ? 'STREAM' : requireString(body, 'callbackType');
    if (callbackType !== 'STREAM' && callbackType !== 'HTTP') throw invalid('callbackType', 'must be STREAM or HTTP');
    // Only the public template exists here: a template built by hand would be one the emulator cannot check.
    if (cardTemplateId !== MARKDOWN_BUTTON_TEMPLATE_ID) throw new OpenApiError(400, 'param.templateNotExist', `cardTemplateId ${cardTemplateId} does not exist`);
    checkTemplateVariables(cardParams, 'cardData', true);
    const space = GROUP_SPACE.exec(openSpaceId);
    if (!space?.[1]) throw invalid('openSpaceId', 'must be dtv1.card//IM_GROUP.<openConversationId> (the emulator delivers to groups only)');
    requireObject(body, 'imGroupOpenSpaceModel');
    const deliver = requireObject(body, 'imGroupOpenDeliverModel');
    const robotCode = requireString(deliver, 'robotCode', 'imGroupOpenDeliverModel.robotCode');
    if (robotCode !== this.robotCode) throw new OpenApiError(400, 'param.robotCodeInvalid', `robotCode ${robotCode} is not a robot of this app`);
    const mentions = mentionsOf(deliver);
    if (this.byId.has(outTrackId)) throw new OpenApiError(400, 'param.outTrackIdExist', `outTrackId ${outTrackId} already exists`);
    const conversationId = space[1];
    this.byId.set(outTrackId, { outTrackId, conversationId, callbackType, cardParamMap: cardParams, mentions, updates: 0 });
    return {
      success: true,
      result: {
        outTrackId,
        deliverResults: [{ spaceType: 'IM_GROUP', spaceId: conversationId, success: true, carrierId: randomBytes(12).toString('hex') }],
      },
    };
  }

  /** PUT /v1.0/card/instances; updateCardDataByKey merges, otherwise the map is replaced. */
  update(body: Body): unknown {
    const outTrackId = requireString(body, 'outTrackId');
    const params = cardParamMap(requireObject(body, 'cardData'), 'cardData');
    const options = body['cardUpdateOptions'] === undefined ? {} : requireObject(body, 'cardUpdateOptions');
    const card = this.get(outTrackId);
    const byKey = options['updateCardDataByKey'] === true;
    checkTemplateVariables(params, 'cardData', !byKey);
    this.apply(card, params, byKey);
    return { success: true, result: true };
  }

  /** A card callback's answer may carry new card data, which DingTalk applies to the card. */
  applyCallbackResponse(outTrackId: string, response: unknown): void {
    if (typeof response !== 'object' || response === null) return;
    const cardData = (response as Body)['cardData'];
    if (typeof cardData !== 'object' || cardData === null) return;
    const options = (response as Body)['cardUpdateOptions'];
    const byKey = typeof options === 'object' && options !== null && (options as Body)['updateCardDataByKey'] === true;
    const params = cardParamMap(cardData as Body, 'response.cardData');
    checkTemplateVariables(params, 'response.cardData', !byKey);
    this.apply(this.get(outTrackId), params, byKey);
  }

  get(outTrackId: string): Card {
    const card = this.byId.get(outTrackId);
    if (!card) throw new OpenApiError(400, 'param.cardNotExist', `card instance with outTrackId ${outTrackId} does not exist`);
    return card;
  }

  list(): Card[] {
    return [...this.byId.values()].map((card) => ({ ...card, cardParamMap: { ...card.cardParamMap }, mentions: { ...card.mentions } }));
  }

  /** The card as the template shows it. */
  rendered(outTrackId: string): RenderedCard {
    const { cardParamMap, mentions } = this.get(outTrackId);
    return {
      title: cardParamMap.title ?? '',
      markdown: cardParamMap.markdown ?? '',
      buttons: cardParamMap.sys_full_json_obj ? buttonsOf(cardParamMap.sys_full_json_obj) : [],
      mentions: { ...mentions },
    };
  }

  private apply(card: Card, params: Record<string, string>, byKey: boolean): void {
    card.cardParamMap = byKey ? { ...card.cardParamMap, ...params } : params;
    card.updates += 1;
  }
}
