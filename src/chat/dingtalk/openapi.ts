// DingTalk OpenAPI calls the adapter makes: the app access token (cached), interactive cards, robot
// one-to-one messages and a person's name. Failed calls are retried with backoff on throttling (HTTP 403
// with a QpsLimit code, or 429), 5xx and network errors.

export const DEFAULT_API_URL = 'https://api.dingtalk.com';
/** The older OpenAPI host, where the user details API lives. */
export const DEFAULT_OAPI_URL = 'https://oapi.dingtalk.com';

/**
 * DingTalk throttles with HTTP 403 and these codes: 20 QPS per app and API by default
 * (open.dingtalk.com "如何处理API调用被限流" / "API call frequency limit": Forbidden.AccessDenied.
 * QpsLimitForAppkeyAndApi, …QpsLimitForApi, …QpsLimitForAppkey). A throttled call is retried after at
 * least a second, the window the limit counts in.
 */
const THROTTLED = /^Forbidden\.AccessDenied\.QpsLimitFor/;

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  minDelayMs: number;
  maxDelayMs: number;
  /** The least wait after a throttled call (default 1 s). */
  throttleDelayMs?: number;
}

/** About half a minute of backoff (0.5 s, 1 s, 2 s, 4 s, 8 s) before a call is given up. */
export const DEFAULT_RETRY: RetryOptions = { attempts: 6, minDelayMs: 500, maxDelayMs: 8_000, throttleDelayMs: 1_000 };

/** The token is renewed this long before DingTalk says it expires. */
const TOKEN_MARGIN_MS = 5 * 60_000;

/** A call DingTalk answered with an error (or that never got an answer). Carries no secret. */
export class DingTalkApiError extends Error {
  readonly status: number | null;
  readonly code: string;
  constructor(operation: string, status: number | null, code: string, message?: string) {
    super(`DingTalk ${operation} failed: ${code}${message ? ` (${message})` : ''}`);
    this.name = 'DingTalkApiError';
    this.status = status;
    this.code = code;
  }
}

export interface CardParams {
  [key: string]: string;
}

export interface CardDelivery {
  cardTemplateId: string;
  outTrackId: string;
  openConversationId: string;
  robotCode: string;
  cardParamMap: CardParams;
  /** People the card @-mentions in the group: staff id → display name (imGroupOpenDeliverModel.atUserIds). */
  atUserIds?: Record<string, string>;
}

export interface DingTalkApiOptions {
  clientId: string;
  clientSecret: string;
  apiUrl?: string | undefined;
  /** Base URL of the older OpenAPI (user details); defaults to apiUrl when that is overridden. */
  oapiUrl?: string | undefined;
  retry?: RetryOptions | undefined;
  /** Called before each retry, for logging. */
  onRetry?: (info: { operation: string; attempt: number; delayMs: number; reason: string }) => void;
}

export interface DingTalkApi {
  /** A valid app access token, fetched when missing or about to expire. Rejects with a DingTalkApiError. */
  accessToken(): Promise<string>;
  createAndDeliverCard(delivery: CardDelivery): Promise<void>;
  updateCard(outTrackId: string, cardParamMap: CardParams): Promise<void>;
  sendPrivateText(robotCode: string, userIds: string[], text: string): Promise<void>;
  /**
   * A person's name from the user details API (POST /topapi/v2/user/get, permission
   * qyapi_get_member: https://open.dingtalk.com/document/orgapp/query-user-details); null when DingTalk
   * does not tell it (no such user, or the app lacks the permission).
   */
  userName(staffId: string): Promise<string | null>;
}

type Json = Record<string, unknown>;

export function createDingTalkApi(options: DingTalkApiOptions): DingTalkApi {
  const base = (options.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, '');
  const oapiBase = (options.oapiUrl ?? options.apiUrl ?? DEFAULT_OAPI_URL).replace(/\/+$/, '');
  const retry = options.retry ?? DEFAULT_RETRY;
  let cached: { token: string; renewAt: number } | null = null;
  let pending: Promise<string> | null = null;

  const fetchToken = async (): Promise<string> => {
    const body = await call('POST', '/v1.0/oauth2/accessToken', { appKey: options.clientId, appSecret: options.clientSecret }, null);
    const token = body.accessToken;
    const expireIn = Number(body.expireIn);
    if (typeof token !== 'string' || !Number.isFinite(expireIn)) {
      throw new DingTalkApiError('POST /v1.0/oauth2/accessToken', 200, 'MalformedResponse');
    }
    cached = { token, renewAt: Date.now() + Math.max(0, expireIn * 1000 - TOKEN_MARGIN_MS) };
    return token;
  };

  const accessToken = async (): Promise<string> => {
    if (cached && Date.now() < cached.renewAt) return cached.token;
    pending ??= fetchToken().finally(() => {
      pending = null;
    });
    return pending;
  };

  /** One request with retries; the token header is added unless `token` is null. */
  async function call(method: string, path: string, payload: Json, token: string | null, host = base): Promise<Json> {
    const operation = `${method} ${path.replace(/\?.*$/, '')}`;
    for (let attempt = 1; ; attempt++) {
      let failure: { retryable: boolean; error: DingTalkApiError; retryAfterMs?: number };
      try {
        const response = await fetch(`${host}${path}`, {
          method,
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            ...(token === null ? {} : { 'x-acs-dingtalk-access-token': token }),
          },
          body: JSON.stringify(payload),
        });
        const body = await readJson(response);
        if (response.ok) return body;
        const code = typeof body.code === 'string' ? body.code : `HTTP ${response.status}`;
        const message = typeof body.message === 'string' ? body.message : undefined;
        const throttled = response.status === 429 || (response.status === 403 && THROTTLED.test(code));
        failure = {
          retryable: throttled || response.status >= 500,
          error: new DingTalkApiError(operation, response.status, code, message),
          retryAfterMs: Math.max(retryAfter(response.headers.get('retry-after')) ?? 0, throttled ? (retry.throttleDelayMs ?? 1_000) : 0),
        };
      } catch (error) {
        failure = {
          retryable: true,
          error: new DingTalkApiError(operation, null, 'NetworkError', error instanceof Error ? error.message : String(error)),
        };
      }
      if (!failure.retryable || attempt >= retry.attempts) throw failure.error;
      const backoff = Math.min(retry.maxDelayMs, retry.minDelayMs * 2 ** (attempt - 1));
      const delayMs = Math.min(retry.maxDelayMs, Math.max(backoff, failure.retryAfterMs ?? 0));
      options.onRetry?.({ operation, attempt, delayMs, reason: failure.error.code });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }

  /** An authenticated call; a token DingTalk no longer accepts is dropped and the call made once more. */
  const authed = async (method: string, path: string, payload: Json): Promise<Json> => {
    try {
      return await call(method, path, payload, await accessToken());
    } catch (error) {
      if (!(error instanceof DingTalkApiError) || error.status !== 401) throw error;
      cached = null;
      return call(method, path, payload, await accessToken());
    }
  };

  return {
    accessToken,

    async createAndDeliverCard(delivery) {
      const openSpaceId = `dtv1.card//IM_GROUP.${delivery.openConversationId}`;
      let body: Json;
      try {
        body = await authed('POST', '/v1.0/card/instances/createAndDeliver', {
          cardTemplateId: delivery.cardTemplateId,
          outTrackId: delivery.outTrackId,
          callbackType: 'STREAM',
          cardData: { cardParamMap: delivery.cardParamMap },
          openSpaceId,
          imGroupOpenSpaceModel: { supportForward: false },
          imGroupOpenDeliverModel: {
            robotCode: delivery.robotCode,
            ...(delivery.atUserIds && Object.keys(delivery.atUserIds).length > 0 ? { atUserIds: delivery.atUserIds } : {}),
          },
        });
      } catch (error) {
        // outTrackIds are fresh per post: "exists" means an earlier attempt got through but its answer was lost.
        if (error instanceof DingTalkApiError && /outTrackId.*Exist/i.test(error.code)) return;
        throw error;
      }
      // DingTalk answers 200 even when the delivery to the group failed; the reason is per space.
      const results = (body.result as { deliverResults?: { success?: boolean; errorMsg?: string; spaceId?: string }[] } | undefined)
        ?.deliverResults;
      const failed = results?.find((r) => r.success === false);
      if (failed) throw new DingTalkApiError('card delivery', 200, 'DeliveryFailed', failed.errorMsg);
    },

    async updateCard(outTrackId, cardParamMap) {
      await authed('PUT', '/v1.0/card/instances', {
        outTrackId,
        cardData: { cardParamMap },
        cardUpdateOptions: { updateCardDataByKey: true },
      });
    },

    async sendPrivateText(robotCode, userIds, text) {
      const body = await authed('POST', '/v1.0/robot/oToMessages/batchSend', {
        robotCode,
        userIds,
        msgKey: 'sampleText',
        msgParam: JSON.stringify({ content: text }),
      });
      const invalid = body.invalidStaffIdList;
      if (Array.isArray(invalid) && invalid.length > 0) {
        throw new DingTalkApiError('private message', 200, 'InvalidStaffId', invalid.join(', '));
      }
    },

    async userName(staffId) {
      // oapi answers HTTP 200 with {errcode, errmsg}; errcode 0 carries result.name.
      const token = await accessToken();
      const body = await call('POST', `/topapi/v2/user/get?access_token=${encodeURIComponent(token)}`, { userid: staffId, language: 'zh_CN' }, null, oapiBase);
      const name = (body.result as { name?: unknown } | undefined)?.name;
      return body.errcode === 0 && typeof name === 'string' && name !== '' ? name : null;
    },
  };
}

async function readJson(response: Response): Promise<Json> {
  const text = await response.text();
  if (text === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Json) : {};
  } catch {
    return {};
  }
}

function retryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}
