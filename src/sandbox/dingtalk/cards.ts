// Interactive cards of the DingTalk OpenAPI: createAndDeliver into an IM group and later updates,
// plus the request checks and error shape the OpenAPI routes share.
import { randomBytes } from 'node:crypto';

/** The api.dingtalk.com error body is {code, message, requestid}; the status travels separately. */
export class OpenApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

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
  updates: number;
}

const GROUP_SPACE = /^dtv1\.card\/\/IM_GROUP\.(.+)$/;

export class CardStore {
  private readonly byId = new Map<string, Card>();
  private readonly robotCode: string;
  private readonly cardTemplateId: string;

  constructor(config: { robotCode: string; cardTemplateId: string }) {
    this.robotCode = config.robotCode;
    this.cardTemplateId = config.cardTemplateId;
  }

  /** POST /v1.0/card/instances/createAndDeliver, IM_GROUP spaces only. */
  createAndDeliver(body: Body): unknown {
    const cardTemplateId = requireString(body, 'cardTemplateId');
    const outTrackId = requireString(body, 'outTrackId');
    const cardParams = cardParamMap(requireObject(body, 'cardData'), 'cardData');
    const openSpaceId = requireString(body, 'openSpaceId');
    const callbackType = body['callbackType'] === undefined ? 'STREAM' : requireString(body, 'callbackType');
    if (callbackType !== 'STREAM' && callbackType !== 'HTTP') throw invalid('callbackType', 'must be STREAM or HTTP');
    if (cardTemplateId !== this.cardTemplateId) throw new OpenApiError(400, 'param.templateNotExist', `cardTemplateId ${cardTemplateId} does not exist`);
    const space = GROUP_SPACE.exec(openSpaceId);
    if (!space?.[1]) throw invalid('openSpaceId', 'must be dtv1.card//IM_GROUP.<openConversationId> (the emulator delivers to groups only)');
    requireObject(body, 'imGroupOpenSpaceModel');
    const deliver = requireObject(body, 'imGroupOpenDeliverModel');
    const robotCode = requireString(deliver, 'robotCode', 'imGroupOpenDeliverModel.robotCode');
    if (robotCode !== this.robotCode) throw new OpenApiError(400, 'param.robotCodeInvalid', `robotCode ${robotCode} is not a robot of this app`);
    if (this.byId.has(outTrackId)) throw new OpenApiError(400, 'param.outTrackIdExist', `outTrackId ${outTrackId} already exists`);
    const conversationId = space[1];
    this.byId.set(outTrackId, { outTrackId, conversationId, callbackType, cardParamMap: cardParams, updates: 0 });
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
    this.apply(card, params, options['updateCardDataByKey'] === true);
    return { success: true, result: true };
  }

  /** A card callback's answer may carry new card data, which DingTalk applies to the card. */
  applyCallbackResponse(outTrackId: string, response: unknown): void {
    if (typeof response !== 'object' || response === null) return;
    const cardData = (response as Body)['cardData'];
    if (typeof cardData !== 'object' || cardData === null) return;
    const options = (response as Body)['cardUpdateOptions'];
    const byKey = typeof options === 'object' && options !== null && (options as Body)['updateCardDataByKey'] === true;
    this.apply(this.get(outTrackId), cardParamMap(cardData as Body, 'response.cardData'), byKey);
  }

  get(outTrackId: string): Card {
    const card = this.byId.get(outTrackId);
    if (!card) throw new OpenApiError(400, 'param.cardNotExist', `card instance with outTrackId ${outTrackId} does not exist`);
    return card;
  }

  list(): Card[] {
    return [...this.byId.values()].map((card) => ({ ...card, cardParamMap: { ...card.cardParamMap } }));
  }

  private apply(card: Card, params: Record<string, string>, byKey: boolean): void {
    card.cardParamMap = byKey ? { ...card.cardParamMap, ...params } : params;
    card.updates += 1;
  }
}
