/**
 * The event bus behind each framework's event stream (Marathon's
 * `GET /v2/events`): what the framework publishes goes, as server-sent
 * events, to every subscriber whose filter lets its type through.
 *
 *   publish(type, payload) ─ stamp eventType + timestamp ─ JSON once ─ frame
 *        ─▶ each subscriber whose types include it ─▶ sink.write(frame)
 *           unsent bytes > maxBufferedBytes ─▶ sink.end(": disconnected: …") and gone
 *
 * Frames are SSE as Marathon writes them: `event: <type>\ndata: <json>\n\n`
 * (JSON.stringify writes no raw newline, so one data line always holds it).
 * As Marathon, attaching and detaching are events themselves,
 * `event_stream_attached` / `event_stream_detached` with the `remoteAddress`.
 *
 * Where we differ from Marathon: a subscriber that cannot keep up is
 * disconnected, with a last comment line saying why, rather than having
 * events dropped in silence (Marathon's `--event_stream_max_outstanding_messages`):
 * a client that missed an event holds a wrong view without knowing it; one
 * that was disconnected knows to reconnect and read the state afresh. So a
 * subscriber costs at most `maxBufferedBytes` plus one frame, and at most
 * `maxSubscribers` subscribe at once.
 */
import { InvalidArgumentError, LimitExceededError } from '../../lib/errors';

/** Marathon's event type names: `status_update_event`, `deployment_info`. */
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
export const EVENT_TYPE_RULE = 'lower-case letters, digits and _, starting with a letter, at most 64 (e.g. status_update_event)';

export const DEFAULT_MAX_SUBSCRIBERS = 64;
/** 1 MiB a subscriber: thousands of Marathon's light events; 64 MiB for a full house of stuck clients. */
export const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024;

export interface EventBusOptions {
  /** Subscribers at once; one more is refused with a LimitExceededError (HTTP 429). Default DEFAULT_MAX_SUBSCRIBERS. */
  maxSubscribers?: number;
  /** Unsent bytes a subscriber may hold before it is disconnected. Default DEFAULT_MAX_BUFFERED_BYTES. */
  maxBufferedBytes?: number;
  /** The clock of the `timestamp` stamped into each event. */
  now?: () => Date;
}

/**
 * Where one subscriber's frames go: an HTTP response (events-http.ts), or a
 * recorder in a test. `write` must not block; what the client has not taken
 * yet is `pending`.
 */
export interface EventSink {
  /** Bytes written but not yet sent to the client (a response's `writableLength`). */
  readonly pending: number;
  write(frame: string): void;
  /** Writes `lastFrame` (a comment saying why) and ends the stream. Called at most once, and nothing is written after. */
  end(lastFrame: string): void;
}

export interface SubscribeOptions {
  /** Only these event types; every type when absent or empty (as Marathon's `event_type` query parameter). */
  types?: ReadonlySet<string>;
  /** The client's address, sent in `event_stream_attached` / `event_stream_detached`. */
  remoteAddress?: string;
}

/** One subscriber's handle. */
export interface Subscription {
  /** The client went away: forget it at once, write nothing more. Idempotent. */
  unsubscribe(): void;
}

interface Subscriber {
  readonly sink: EventSink;
  readonly types: ReadonlySet<string> | undefined;
  readonly remoteAddress: string;
  open: boolean;
}

/** `event: TYPE\ndata: JSON\n\n`, one server-sent event. */
function frameOf(eventType: string, json: string): string {
  return `event: ${eventType}\ndata: ${json}\n\n`;
}

/** A comment line (clients ignore it), closed by a blank line so it never joins an event. */
function commentOf(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

export class EventBus {
  readonly maxSubscribers: number;
  readonly maxBufferedBytes: number;
  readonly #now: () => Date;
  readonly #subscribers = new Set<Subscriber>();
  /** Subscribers disconnected for reading too slowly, since the start (for metrics). */
  #slowDisconnects = 0;
  /** Detached subscribers not yet announced: announced after the event being sent, never in its midst. */
  readonly #gone: Subscriber[] = [];
  #announcing = false;

  constructor(opts: EventBusOptions = {}) {
    this.maxSubscribers = positiveInteger('maxSubscribers', opts.maxSubscribers ?? DEFAULT_MAX_SUBSCRIBERS);
    this.maxBufferedBytes = positiveInteger('maxBufferedBytes', opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES);
    this.#now = opts.now ?? (() => new Date());
  }

  /** Subscribers now. */
  get size(): number {
    return this.#subscribers.size;
  }

  get slowDisconnects(): number {
    return this.#slowDisconnects;
  }

  /**
   * Sends `payload` with `eventType` and an ISO `timestamp` stamped in (they
   * replace fields of those names) to every subscriber that takes the type.
   * Throws InvalidArgumentError for a type that breaks EVENT_TYPE_PATTERN, and
   * JSON.stringify's TypeError for a payload JSON cannot hold — before
   * anything is sent. Never blocks: a subscriber too far behind is disconnected.
   */
  publish(eventType: string, payload: Record<string, unknown>): void {
    if (!EVENT_TYPE_PATTERN.test(eventType)) throw new InvalidArgumentError(`event type ${JSON.stringify(eventType)} is not valid: ${EVENT_TYPE_RULE}`);
    const takers = [...this.#subscribers].filter((s) => !s.types?.size || s.types.has(eventType));
    if (!takers.length) return;
    const frame = frameOf(eventType, JSON.stringify({ ...payload, eventType, timestamp: this.#now().toISOString() }));
    for (const s of takers) this.#send(s, frame);
    this.#announceGone();
  }

  /** A comment to every subscriber: keeps idle connections (and proxies) open, and finds the dead and the stuck. */
  heartbeat(): void {
    const frame = commentOf('heartbeat');
    for (const s of [...this.#subscribers]) this.#send(s, frame);
    this.#announceGone();
  }

  /**
   * A new subscriber, then `event_stream_attached` to everyone who takes it
   * (the new one included, so a client knows from when on it hears). Throws
   * LimitExceededError when maxSubscribers are already subscribed.
   */
  subscribe(sink: EventSink, opts: SubscribeOptions = {}): Subscription {
    if (this.#subscribers.size >= this.maxSubscribers) {
      throw new LimitExceededError(`the event stream already has ${this.#subscribers.size} subscribers, its limit (${this.maxSubscribers}); close one or retry later`);
    }
    const s: Subscriber = { sink, types: opts.types, remoteAddress: opts.remoteAddress ?? 'unknown', open: true };
    this.#subscribers.add(s);
    this.publish('event_stream_attached', { remoteAddress: s.remoteAddress });
    return {
      unsubscribe: () => {
        this.#forget(s);
        this.#announceGone();
      },
    };
  }

  /**
   * Ends every stream with a comment saying `reason` (this instance stopped
   * leading, or shuts down): clients reconnect, through a standby to the new
   * leader. Sends no `event_stream_detached`: nobody is left to hear it.
   */
  closeAll(reason: string): void {
    const all = [...this.#subscribers];
    this.#subscribers.clear();
    for (const s of all) this.#end(s, reason);
  }

  /** Writes a frame, then disconnects the subscriber if what it has not read is over the limit. */
  #send(s: Subscriber, frame: string): void {
    if (!s.open) return; // disconnected earlier in this same publish
    s.sink.write(frame);
    if (s.sink.pending <= this.maxBufferedBytes) return;
    this.#slowDisconnects++;
    this.#end(s, `disconnected: this client read too slowly (${s.sink.pending} bytes unread, the limit is ${this.maxBufferedBytes}); reconnect and read the state afresh`);
    this.#forget(s);
  }

  #end(s: Subscriber, reason: string): void {
    if (!s.open) return;
    s.open = false;
    s.sink.end(commentOf(reason));
  }

  /** Forgets a subscriber; it is announced once, by #announceGone. */
  #forget(s: Subscriber): void {
    s.open = false;
    if (this.#subscribers.delete(s)) this.#gone.push(s);
  }

  /**
   * `event_stream_detached` for each forgotten subscriber, in order. Sending
   * one may cut off another slow subscriber, whose own announcement joins the
   * queue: one loop, never a nested one.
   */
  #announceGone(): void {
    if (this.#announcing) return;
    this.#announcing = true;
    try {
      for (let s = this.#gone.shift(); s; s = this.#gone.shift()) this.publish('event_stream_detached', { remoteAddress: s.remoteAddress });
    } finally {
      this.#announcing = false;
    }
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`EventBus ${name} must be a whole number >= 1, got ${value}`);
  return value;
}
