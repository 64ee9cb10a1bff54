// Who is who in DingTalk: a staff id's display name, learned from the robot messages people send
// (senderNick) and, for someone the bot has not heard from, asked of the user details API. Names are
// kept (bounded); a person DingTalk will not name is shown by staff id and asked about again later.
import type { UserId } from '../../../flows/contract.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Actor } from '../model.ts';
import type { DingTalkApi } from './openapi.ts';

const REMEMBERED = 1_000;
/** A staff id DingTalk did not name is not asked about again for this long. */
const RETRY_UNKNOWN_MS = 10 * 60_000;

export class People {
  private readonly api: Pick<DingTalkApi, 'userName'>;
  private readonly logger: Logger;
  private readonly names = new Map<string, string>();
  private readonly unknown = new Map<string, number>();

  constructor(api: Pick<DingTalkApi, 'userName'>, logger: Logger) {
    this.api = api;
    this.logger = logger;
  }

  /** A robot message's sender: its senderNick is the name the group knows them by. */
  saw(actor: Actor): void {
    const staffId = staffIdOf(actor.id);
    if (staffId && actor.name && actor.name !== staffId) this.remember(staffId, actor.name);
  }

  /** The name of a staff id, when known. */
  known(staffId: string): string | undefined {
    return this.names.get(staffId);
  }

  /** `dingtalk:manager123` as its display name when known, else its staff id; other ids as they are. */
  nameOf(user: UserId): string {
    const staffId = staffIdOf(user);
    if (!staffId) return user;
    return this.names.get(staffId) ?? staffId;
  }

  /** Staff id → name of the people a card @-mentions (imGroupOpenDeliverModel.atUserIds). */
  mentions(users: readonly UserId[]): Record<string, string> {
    return Object.fromEntries(users.flatMap((user) => {
      const staffId = staffIdOf(user);
      return staffId ? [[staffId, this.nameOf(user)]] : [];
    }));
  }

  /**
   * Learns the names of people not seen yet, from the user details API. Never throws. With `withinMs`
   * it returns after that long at the latest; the lookup goes on and fills the cache for next time.
   */
  async resolve(users: readonly UserId[], withinMs?: number): Promise<void> {
    const lookup = this.lookUp(users);
    if (withinMs === undefined) return lookup;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([lookup, new Promise<void>((resolve) => (timer = setTimeout(resolve, withinMs)))]);
    clearTimeout(timer);
  }

  private async lookUp(users: readonly UserId[]): Promise<void> {
    const now = Date.now();
    const wanted = [...new Set(users.map(staffIdOf).filter((id): id is string => id !== null))].filter(
      (id) => !this.names.has(id) && now - (this.unknown.get(id) ?? -Infinity) > RETRY_UNKNOWN_MS,
    );
    await Promise.all(
      wanted.map(async (staffId) => {
        try {
          const name = await this.api.userName(staffId);
          if (name) this.remember(staffId, name);
          else this.unknown.set(staffId, now);
        } catch (error) {
          this.unknown.set(staffId, now);
          this.logger.warn({ err: error, staffId }, 'DingTalk did not say who a staff id is; showing the id');
        }
      }),
    );
  }

  private remember(staffId: string, name: string): void {
    this.names.delete(staffId);
    this.names.set(staffId, name);
    this.unknown.delete(staffId);
    if (this.names.size > REMEMBERED) this.names.delete(this.names.keys().next().value!);
  }
}

function staffIdOf(user: string): string | null {
  return /^dingtalk:(.+)$/.exec(user)?.[1] ?? null;
}
