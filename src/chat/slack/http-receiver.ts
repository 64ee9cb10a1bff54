// A Bolt receiver for Slack's HTTP mode that does not own a server: the app's one HTTP server hands it
// POST /slack/events. Bodies over 4 MB get 413 before anything is buffered past the limit (Bolt's own
// receivers use the same limit, HTTPModuleFunctions.defaultBodyLimit); requests without a valid
// signature, or signed more than 5 minutes from now, get 401 and reach no listener; a body that is not a
// JSON object gets 400.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HTTPModuleFunctions as http, HTTPResponseAck, type App, type Logger, type Receiver } from '@slack/bolt';

const MAX_SKEW_SECONDS = 5 * 60;

/** Past this much of an oversized body, the connection is cut instead of drained. */
const MAX_DRAINED = 16 * 1024 * 1024;

/**
 * 413 at once. The rest of the body is read and dropped (never kept) rather than the connection closed
 * under it, which would reset it before the client reads the answer; a client that keeps sending past
 * MAX_DRAINED is cut off.
 */
function tooLarge(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(413);
  res.end();
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > MAX_DRAINED) req.destroy();
  });
  req.resume();
}

export class SlackEventsReceiver implements Receiver {
  private app: App | undefined;
  private readonly signingSecret: string;
  private readonly logger: Logger;

  constructor(options: { signingSecret: string; logger: Logger }) {
    this.signingSecret = options.signingSecret;
    this.logger = options.logger;
  }

  init(app: App): void {
    this.app = app;
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return http.buildNoBodyResponse(res, 405);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > http.defaultBodyLimit) return tooLarge(req, res);
    let request;
    try {
      request = await http.parseAndVerifyHTTPRequest(
        { signingSecret: this.signingSecret, logger: this.logger, bodyLimit: http.defaultBodyLimit },
        req,
      );
    } catch (error) {
      if (http.isRawBodyError(error) && error.statusCode === 413) return tooLarge(req, res);
      this.logger.warn(`Slack request refused: ${(error as Error).message}`);
      return http.buildNoBodyResponse(res, 401);
    }
    let body;
    try {
      body = http.parseHTTPRequestBody(request);
    } catch {
      return http.buildNoBodyResponse(res, 400);
    }
    // `payload=null` or a JSON array parses, but is no Slack request.
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return http.buildNoBodyResponse(res, 400);
    if (body.ssl_check === '1') return http.buildSSLCheckResponse(res);
    // Bolt refuses stale timestamps; a timestamp from the future is just as suspect.
    const timestamp = Number(req.headers['x-slack-request-timestamp']);
    if (timestamp - Math.floor(Date.now() / 1000) > MAX_SKEW_SECONDS) {
      this.logger.warn('Slack request refused: x-slack-request-timestamp is in the future');
      return http.buildNoBodyResponse(res, 401);
    }
    if (body.type === 'url_verification') return http.buildUrlVerificationResponse(res, body);

    // The answer is held until the listener is done: listeners store the event before they ack, and
    // Bolt acks Events API deliveries before the listener runs, so only this keeps both in order.
    const ack = new HTTPResponseAck({
      logger: this.logger,
      processBeforeResponse: true,
      httpRequest: request,
      httpRequestBody: body,
      httpResponse: res,
    });
    try {
      await this.app?.processEvent({
        body,
        ack: ack.bind(),
        retryNum: http.extractRetryNumFromHTTPRequest(req),
        retryReason: http.extractRetryReasonFromHTTPRequest(req),
      });
      if (ack.storedResponse !== undefined && !res.headersSent) http.buildContentResponse(res, ack.storedResponse);
    } catch (error) {
      this.logger.error(`Slack event failed: ${(error as Error).message}`);
      if (!res.headersSent) http.buildNoBodyResponse(res, 500);
    }
  }
}
