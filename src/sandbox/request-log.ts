// What the RAM, CS and OSS emulators were asked, by whom, and what RAM decided: for tests that must show which
// identity did what (the bot's own calls, migrate-controller's object writes). In memory only, bounded.

export interface LoggedRequest {
  service: 'ram' | 'cs' | 'oss' | 'hbr' | 'ecs';
  /** The RAM action evaluated, e.g. "oss:PutObject". */
  action: string;
  /** The first resource of the request, e.g. "acs:oss:cn-hangzhou:123:bucket/key". */
  resource: string;
  /** "account", "user/<name>" or "role/<name>". */
  principal: string;
  allowed: boolean;
}

const MAX_ENTRIES = 20_000;

export class RequestLog {
  readonly entries: LoggedRequest[] = [];

  record(entry: LoggedRequest): void {
    this.entries.push(entry);
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
  }

  clear(): void {
    this.entries.length = 0;
  }
}
