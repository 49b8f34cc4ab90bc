// One poller per server, however many browsers watch: it reads the cheap data version every interval while at
// least one listener is subscribed and tells them all when it changes. A listener then fetches a snapshot.
// Polling a two-index-lookup query was chosen over LISTEN/NOTIFY because the stream loader (another module)
// would have to send the notifications; the cost is up to one interval of delay, measured in the e2e test.

export type WatchEvent = { type: 'version'; version: string } | { type: 'problem'; message: string };
export type WatchListener = (event: WatchEvent) => void;

export class VersionWatcher {
  private readonly listeners = new Set<WatchListener>();
  private timer: NodeJS.Timeout | undefined;
  private last: WatchEvent | undefined;
  private polling = false;
  private stopped = false;

  constructor(
    private readonly readVersion: () => Promise<string>,
    private readonly intervalMs: number,
  ) {}

  /** The last version read while someone was watching; undefined when unknown or stale. */
  current(): string | undefined {
    return this.timer !== undefined || this.polling ? this.lastVersion() : undefined;
  }

  subscribe(listener: WatchListener): () => void {
    this.listeners.add(listener);
    if (this.last !== undefined && this.timer !== undefined) listener(this.last);
    if (this.listeners.size === 1) void this.tick();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.pause();
    };
  }

  stop(): void {
    this.stopped = true;
    this.pause();
    this.listeners.clear();
  }

  private lastVersion(): string | undefined {
    return this.last?.type === 'version' ? this.last.version : undefined;
  }

  private pause(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    // What we knew goes stale while nobody polls; a new first subscriber gets a fresh read.
    this.last = undefined;
  }

  private async tick(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    let event: WatchEvent;
    try {
      event = { type: 'version', version: await this.readVersion() };
    } catch (err) {
      event = { type: 'problem', message: (err as Error).message };
    }
    this.polling = false;
    if (this.stopped || this.listeners.size === 0) return;
    const changed =
      this.last === undefined ||
      this.last.type !== event.type ||
      (event.type === 'version' ? this.lastVersion() !== event.version : false);
    this.last = event;
    if (changed) for (const listener of this.listeners) listener(event);
    // setTimeout after each read rather than setInterval: a slow database never stacks up queries.
    this.timer = setTimeout(() => void this.tick(), this.intervalMs);
  }
}
