/**
 * The Bayeux 1.0 client. It keeps the verbs of the Perl client it descends
 * from (init, publish, subscribe, unsubscribe, disconnect, reconnect) and
 * adds what that one lacked: websocket with long-polling and callback-polling
 * fallbacks, reconnection with backoff, resubscription after a new
 * handshake, an offline queue, and the acknowledgement extension.
 *
 * Life cycle (Bayeux 1.0 sections 3.4 to 3.6): `/meta/handshake` gets a
 * `clientId`, then a `/meta/connect` loop runs for the life of the session;
 * the server holds each connect open (long poll) and its replies carry
 * `advice` that the client obeys: `reconnect` (`retry`, `handshake`, `none`),
 * `interval` (pause between connects) and `timeout` (how long the server may
 * hold a connect).
 */
import { isChannelName, isMetaChannel, isSubscribable } from "../../codec/bayeux/index.js";
import { AckExtension } from "./ack-extension.js";
import { Backoff } from "./backoff.js";
import { ConnectTiming } from "./connect-timing.js";
import { TypedEmitter } from "./emitter.js";
import {
  BayeuxCallbackError,
  BayeuxChannelError,
  BayeuxDisconnectedError,
  BayeuxMessageDroppedError,
  BayeuxReplyError,
  BayeuxTimeoutError,
  BayeuxTransportError,
  BayeuxUnhandledMessageError,
} from "./errors.js";
import type { BayeuxClientEvents, ClientState } from "./events.js";
import { runExtensions } from "./extensions.js";
import { InboundPipeline } from "./inbound.js";
import { createLogger, type LogFn } from "./logger.js";
import { type BayeuxClientOptions, type ResolvedClientOptions, resolveOptions } from "./options.js";
import { Publisher } from "./publisher.js";
import { type RequestHandlers, RequestTracker, type SessionPort } from "./requests.js";
import { SubscriptionSync } from "./subscription-sync.js";
import type { Subscription } from "./subscriptions.js";
import type { Transport, TransportContext } from "./transport.js";
import { runtimeHasWebSocket, TransportSelector, usableTypes } from "./transport-selector.js";
import type {
  BayeuxExtension,
  BayeuxMessage,
  ConnectionType,
  DeliveredMessage,
  SubscriptionCallback,
} from "./types.js";

const HANDSHAKE = "/meta/handshake";
const CONNECT = "/meta/connect";

/**
 * A Bayeux client for Node 20+ and browsers.
 *
 * @example
 * const client = new BayeuxClient("http://127.0.0.1:8000/bayeux");
 * await client.init();
 * const sub = await client.subscribe("/chat/*", (message) => console.log(message.data));
 * await client.publish("/chat/demo", { user: "ada", chat: "hello" });
 * await sub.cancel();
 * await client.disconnect();
 */
export class BayeuxClient extends TypedEmitter<BayeuxClientEvents> {
  /** The endpoint, `http(s)://host:port/path`. */
  readonly url: string;
  readonly #o: ResolvedClientOptions;
  readonly #log: LogFn;
  readonly #requests: RequestTracker;
  readonly #subscriptions: SubscriptionSync;
  readonly #publisher: Publisher;
  readonly #backoff: Backoff;
  readonly #transports: TransportSelector;
  readonly #inbound: InboundPipeline;
  readonly #extensions: BayeuxExtension[] = [];
  readonly #ack: AckExtension | null;
  #state: ClientState = "disconnected";
  #clientId: string | null = null;
  readonly #timing: ConnectTiming;
  #connectInFlight = false;
  #waiters: { resolve(): void; reject(error: Error): void }[] = [];

  constructor(url: string, options?: BayeuxClientOptions);
  constructor(options: BayeuxClientOptions);
  constructor(urlOrOptions: string | BayeuxClientOptions, options: BayeuxClientOptions = {}) {
    super();
    const merged =
      typeof urlOrOptions === "string" ? { ...options, url: urlOrOptions } : urlOrOptions;
    this.#o = resolveOptions(merged);
    this.url = this.#o.url;
    this.#log = createLogger(this.#o.logger);
    this.#requests = new RequestTracker(this.#o.clock, this.#o.maxBatchLength);
    const port = this.#port();
    this.#subscriptions = new SubscriptionSync(port, this.#o.clock);
    this.#publisher = new Publisher(
      port,
      this.#o.offlineQueueLimit,
      () => this.#requests.nextId(),
      this.#o.maxBatchLength,
    );
    this.#backoff = new Backoff(this.#o.backoff, this.#o.random);
    this.#timing = new ConnectTiming(this.#o.clock);
    const offered = usableTypes({
      transports: this.#o.transports,
      url: this.url,
      crossDomain: this.#o.crossDomain,
      hasWebSocket: runtimeHasWebSocket(this.#o.WebSocket),
      hasFetch: typeof (this.#o.fetch ?? globalThis.fetch) === "function",
    });
    if (offered.length === 0) throw new RangeError("no usable connection type in this runtime");
    this.#transports = new TransportSelector(
      offered,
      () => this.#transportContext(),
      (previous, next) => {
        if (previous) this.#requests.fail(previous, null, new BayeuxTransportError("replaced"));
        this.#log("using %s", next.connectionType);
        this.emit("transport", next.connectionType);
      },
    );
    this.#inbound = new InboundPipeline(
      this.#extensions,
      (message) => this.#handle(message),
      (error) => this.#report(error),
      this.#log,
      this.#o.maxPayloadDepth,
    );
    this.#ack = this.#o.ackExtension ? new AckExtension(this.#o.duplicateWindow, this.#log) : null;
    if (this.#ack) this.#extensions.push(this.#ack);
  }

  /** The current life-cycle state. */
  get state(): ClientState {
    return this.#state;
  }

  /** The id the server gave in the last handshake, while the session lasts. */
  get clientId(): string | null {
    return this.#clientId;
  }

  /** The connection type in use, if any. */
  get connectionType(): ConnectionType | null {
    return this.#transports.current?.connectionType ?? null;
  }

  /** The acknowledgement extension, when enabled (its counters help diagnostics). */
  get ackExtension(): AckExtension | null {
    return this.#ack;
  }

  /** Publishes waiting for a connection. */
  get queuedPublishes(): number {
    return this.#publisher.queued;
  }

  // ---- verbs -------------------------------------------------------------

  /** Same as {@link handshake}: connects and starts the `/meta/connect` loop. */
  init(): Promise<void> {
    return this.handshake();
  }

  /**
   * Handshakes, then runs the `/meta/connect` loop. Resolves once the first
   * connect succeeds; keeps retrying (with backoff) while the server is
   * unreachable; rejects if `disconnect()` is called first or the server
   * advises `reconnect: "none"`.
   */
  handshake(): Promise<void> {
    if (this.#state === "connected") return Promise.resolve();
    const connected = new Promise<void>((resolve, reject) =>
      this.#waiters.push({ resolve, reject }),
    );
    if (this.#state === "disconnected") this.#startHandshake();
    return connected;
  }

  /**
   * Publishes `data` on `channel`; `clientId` and `id` are filled in.
   * Resolves with the server's reply; rejects with {@link BayeuxReplyError}
   * when the server refuses it. While offline the publish waits in a bounded
   * queue and goes out after reconnecting.
   *
   * @example
   * const reply = await client.publish("/chat/demo", { chat: "hi" });
   */
  publish(channel: string, data: unknown): Promise<BayeuxMessage> {
    if (!isChannelName(channel) || isMetaChannel(channel)) {
      return Promise.reject(new BayeuxChannelError(channel, "not a publishable channel name"));
    }
    return this.#publisher.publish(channel, data);
  }

  /**
   * Subscribes `callback` to a channel or pattern (`/a/*`, `/a/**`). The
   * callback runs for every delivery (it gets the whole message). Resolves
   * with the {@link Subscription} once the server acknowledges; the
   * subscription survives reconnections and new handshakes.
   *
   * @example
   * const sub = await client.subscribe("/chat/**", (message) => render(message.data));
   */
  subscribe(channel: string, callback: SubscriptionCallback): Promise<Subscription> {
    if (!isSubscribable(channel) || isMetaChannel(channel)) {
      return Promise.reject(new BayeuxChannelError(channel, "not a subscribable channel"));
    }
    if (typeof callback !== "function") {
      return Promise.reject(new TypeError("subscribe needs a callback function"));
    }
    return this.#subscriptions.subscribe(channel, callback);
  }

  /**
   * Removes `callback` from `channel`, or every callback when omitted; the
   * server is told once no callback is left on the channel.
   */
  unsubscribe(channel: string, callback?: SubscriptionCallback): Promise<void> {
    return this.#subscriptions.unsubscribe(channel, callback);
  }

  /**
   * Sends `/meta/disconnect` and closes the connection. Subscriptions are
   * dropped and queued publishes rejected.
   */
  disconnect(): Promise<void> {
    return this.#shutdown(false);
  }

  /** Disconnects, then handshakes again and restores every subscription. */
  async reconnect(): Promise<void> {
    await this.#shutdown(true);
    return this.handshake();
  }

  /**
   * Adds an extension; returns a function that removes it.
   *
   * @example
   * const remove = client.addExtension({ outgoing: (m) => { m.ext = { ...m.ext, auth: token }; } });
   */
  addExtension(extension: BayeuxExtension): () => void {
    this.#extensions.push(extension);
    return () => this.removeExtension(extension);
  }

  removeExtension(extension: BayeuxExtension): void {
    const index = this.#extensions.indexOf(extension);
    if (index >= 0) this.#extensions.splice(index, 1);
  }

  // ---- handshake and the connect loop --------------------------------------

  #port(): SessionPort {
    const client = this;
    return {
      get connected() {
        return client.#state === "connected";
      },
      get clientId() {
        return client.#clientId;
      },
      get replyTimeout() {
        return client.#o.maxNetworkDelay;
      },
      request: (message, timeout, handlers) => this.#request(message, timeout, handlers),
      report: (error, message) => this.#report(error, message),
      rehandshake: (error) => this.#rehandshake(error),
    };
  }

  #schedule(step: "handshake" | "connect", delay: number, retrying = false): void {
    const run = step === "handshake" ? () => this.#startHandshake() : () => void this.#connect();
    this.#timing.schedule(run, delay, retrying);
  }

  #retry(step: "handshake" | "connect", error: Error): void {
    const delay = this.#backoff.next() + this.#timing.interval;
    this.#log("%s failed (%s); retrying in %d ms", step, error.message, delay);
    this.emit("reconnecting", delay, this.#backoff.attempt, error);
    this.#schedule(step, delay, true);
  }

  #transportContext(): TransportContext {
    return {
      url: this.url,
      clock: this.#o.clock,
      log: this.#log,
      openTimeout: this.#o.maxNetworkDelay,
      fetch: this.#o.fetch,
      WebSocket: this.#o.WebSocket,
      withCredentials: this.#o.withCredentials,
      host: {
        receive: (_transport, batch) => this.#inbound.receive(batch),
        failed: (transport, messages, error) => this.#transportFailed(transport, messages, error),
      },
    };
  }

  /** After a failure of a transport that never worked: try the next type now, or back off. */
  #afterTransportFailure(
    step: "handshake" | "connect",
    transport: Transport | null,
    error: Error,
  ): void {
    if (this.#transports.setAside(transport)) {
      this.#log("%s unusable (%s); trying the next type", transport?.connectionType, error.message);
      this.#schedule(step, 0, true);
      return;
    }
    this.#retry(step, error);
  }

  async #startHandshake(): Promise<void> {
    this.#timing.cancel();
    this.#state = "handshaking";
    this.#clientId = null;
    this.#transports.serverTypes = undefined;
    this.#connectInFlight = false;
    this.#subscriptions.forget();
    const type = this.#transports.next();
    if (!type) {
      // Every type failed once: start over from the preferred one, after a pause.
      this.#transports.reset();
      this.#retry(
        "handshake",
        new BayeuxTransportError("no connection type could reach the server"),
      );
      return;
    }
    let transport: Transport;
    try {
      transport = await this.#transports.use(type);
    } catch (err) {
      if (this.#state !== "handshaking") return;
      this.#afterTransportFailure("handshake", this.#transports.current, err as Error);
      return;
    }
    if (this.#state !== "handshaking") return;
    const message: BayeuxMessage = {
      channel: HANDSHAKE,
      version: "1.0",
      minimumVersion: "1.0",
      supportedConnectionTypes: [...this.#transports.offered],
    };
    this.#request(message, this.#o.maxNetworkDelay, {
      reply: (reply) => this.#onHandshakeReply(reply),
      fail: (error) => {
        if (this.#state === "handshaking")
          this.#afterTransportFailure("handshake", transport, error);
      },
    });
  }

  #onHandshakeReply(reply: BayeuxMessage): void {
    if (this.#state !== "handshaking") return;
    this.#timing.takeAdvice(reply);
    if (reply.successful !== true || typeof reply.clientId !== "string" || reply.clientId === "") {
      const error = new BayeuxReplyError(reply);
      this.#report(error, reply);
      if (reply.advice?.reconnect === "none") {
        this.#end(error);
        return;
      }
      this.#retry("handshake", error);
      return;
    }
    this.#clientId = reply.clientId;
    const types = reply.supportedConnectionTypes;
    const serverTypes = Array.isArray(types)
      ? types.filter((t) => typeof t === "string")
      : undefined;
    this.#transports.serverTypes = serverTypes;
    this.#log("handshake ok, clientId %s, server types %s", this.#clientId, serverTypes);
    if (!this.#transports.agrees()) {
      this.#end(
        new BayeuxTransportError("the server offers no connection type this client supports"),
      );
      return;
    }
    this.#state = "connecting";
    void this.#connect();
  }

  async #connect(): Promise<void> {
    if (this.#state !== "connecting" && this.#state !== "connected") return;
    if (this.#connectInFlight) return;
    const clientId = this.#clientId;
    const type = this.#transports.next();
    if (!type) {
      this.#transports.reset();
      this.#retry("connect", new BayeuxTransportError("no connection type could reach the server"));
      return;
    }
    this.#connectInFlight = true;
    let transport: Transport;
    try {
      transport = await this.#transports.use(type);
    } catch (err) {
      this.#connectInFlight = false;
      if (this.#clientId !== clientId) return;
      this.#connectionLost(err as Error, this.#transports.current);
      return;
    }
    if (
      this.#clientId !== clientId ||
      (this.#state !== "connecting" && this.#state !== "connected")
    ) {
      this.#connectInFlight = false;
      return;
    }
    const message: BayeuxMessage = { channel: CONNECT, connectionType: type };
    // Until a connect has succeeded, ask the server to answer at once
    // (advice.timeout 0) so "connected" is known without a long-poll wait.
    if (this.#state === "connecting") message.advice = { timeout: 0 };
    const hold = this.#state === "connecting" ? 0 : this.#timing.timeout;
    this.#request(message, hold + this.#o.maxNetworkDelay, {
      reply: (reply) => {
        if (this.#clientId !== clientId) return;
        this.#connectInFlight = false;
        this.#onConnectReply(reply);
      },
      fail: (error) => {
        if (this.#clientId !== clientId) return;
        this.#connectInFlight = false;
        if (error instanceof BayeuxTimeoutError) transport.drop?.();
        this.#connectionLost(error, transport);
      },
    });
  }

  #onConnectReply(reply: BayeuxMessage): void {
    if (this.#state !== "connecting" && this.#state !== "connected") return;
    this.#timing.takeAdvice(reply);
    if (reply.successful === true) {
      this.#backoff.reset();
      if (this.#state === "connecting") {
        this.#state = "connected";
        this.#log("connected over %s", this.connectionType);
        this.emit("connected", this.#clientId as string);
        const waiters = this.#waiters;
        this.#waiters = [];
        for (const waiter of waiters) waiter.resolve();
      }
      this.#resume();
      const interval = this.#timing.interval;
      if (interval > 0) this.#schedule("connect", interval);
      else void this.#connect();
      return;
    }
    this.#refused(new BayeuxReplyError(reply), "connect");
  }

  /** A refused meta request: follow the advice (handshake, retry, or stop). */
  #refused(error: BayeuxReplyError, step: "connect" | "handshake"): void {
    this.#report(error, error.reply);
    if (error.unknownClient) {
      this.#rehandshake(error);
      return;
    }
    if (error.reply.advice?.reconnect === "none") {
      this.#end(error);
      return;
    }
    if (step === "connect") this.#connectionLost(error, this.#transports.current);
    else this.#retry(step, error);
  }

  /** The server forgot this client: handshake again at once, restoring subscriptions. */
  #rehandshake(error: Error): void {
    if (this.#state === "disconnected" || this.#state === "disconnecting") return;
    if (this.#state === "handshaking" && this.#clientId === null) return;
    this.#log("server asks for a new handshake (%s)", error.message);
    if (this.#state === "connected") this.emit("disconnected", error);
    this.#state = "handshaking";
    this.#clientId = null;
    this.#connectInFlight = false;
    this.#schedule("handshake", this.#timing.interval);
  }

  #connectionLost(error: Error, transport: Transport | null): void {
    if (this.#state !== "connecting" && this.#state !== "connected") return;
    if (this.#state === "connected") {
      this.#state = "connecting";
      this.emit("disconnected", error);
    }
    // One failure is often reported twice (the socket closed, and the connect on it failed).
    if (this.#timing.retryPending) return;
    this.#afterTransportFailure("connect", transport, error);
  }

  /** After every successful connect: send what waited for a connection. */
  #resume(): void {
    this.#subscriptions.resume();
    this.#publisher.resume();
  }

  // ---- sending -----------------------------------------------------------

  /** Fills `id` and `clientId`, runs the outgoing extensions, and sends. */
  #request(message: BayeuxMessage, timeout: number, handlers: RequestHandlers): void {
    const transport = this.#transports.current;
    if (!transport) {
      queueMicrotask(() => handlers.fail(new BayeuxTransportError("no transport")));
      return;
    }
    message.id ??= this.#requests.nextId();
    if (message.channel !== HANDSHAKE && this.#clientId) message.clientId = this.#clientId;
    const send = (out: BayeuxMessage | null) => {
      if (!out) {
        handlers.fail(new BayeuxMessageDroppedError(message.channel));
        return;
      }
      out.id ??= message.id;
      this.#log("send %o", out);
      this.#requests.track(out, transport, timeout, handlers);
    };
    const out = runExtensions(this.#extensions, "outgoing", message);
    if (out instanceof Promise) out.then(send, (err) => handlers.fail(err as Error));
    else send(out);
  }

  // ---- receiving ---------------------------------------------------------

  #handle(message: BayeuxMessage): void {
    this.#log("received %o", message);
    if ("successful" in message) {
      if (!this.#requests.settle(message)) this.#log("reply to no request: %s", message.id);
      return;
    }
    if (isMetaChannel(message.channel) || !("data" in message)) {
      this.#log("ignored message on %s", message.channel);
      return;
    }
    const calls = this.#subscriptions.dispatch(message as DeliveredMessage, (channel, err) =>
      this.#report(new BayeuxCallbackError(channel, err), message),
    );
    if (calls === 0) this.#report(new BayeuxUnhandledMessageError(message.channel), message);
  }

  #transportFailed(
    transport: Transport,
    messages: readonly BayeuxMessage[] | null,
    error: BayeuxTransportError,
  ): void {
    this.#log("%s failed: %s", transport.connectionType, error.message);
    this.#requests.fail(transport, messages, error);
    // A websocket that closes between two connects is noticed here.
    if (messages === null && transport === this.#transports.current && !this.#connectInFlight) {
      this.#connectionLost(error, transport);
    }
  }

  // ---- ending ------------------------------------------------------------

  #report(error: Error, message?: BayeuxMessage): void {
    this.#log("error: %s", error.message);
    if (message && this.#o.errorCallback) {
      try {
        this.#o.errorCallback(message, error);
      } catch (err) {
        this.#log("errorCallback threw: %s", err);
      }
    }
    this.emit("error", error, message);
  }

  protected override onListenerError(err: unknown): void {
    this.#log("event listener threw: %s", err);
  }

  async #shutdown(keep: boolean): Promise<void> {
    const error = new BayeuxDisconnectedError();
    if (this.#state === "disconnecting") return;
    const wasActive = this.#state !== "disconnected";
    if (wasActive) {
      const transport = this.#transports.current;
      const clientId = this.#clientId;
      this.#state = "disconnecting";
      this.#timing.cancel();
      if (clientId && transport) {
        await new Promise<void>((resolve) =>
          this.#request({ channel: "/meta/disconnect" }, this.#o.maxNetworkDelay, {
            reply: () => resolve(),
            fail: () => resolve(),
          }),
        );
      }
    }
    this.#teardown(error, keep);
    if (wasActive) this.emit("disconnected", null);
  }

  /** The server said `reconnect: "none"`, or no connection type fits: stop for good. */
  #end(error: Error): void {
    this.#report(error);
    this.#teardown(error, false);
    this.emit("disconnected", error);
  }

  #teardown(error: Error, keep: boolean): void {
    this.#state = "disconnected";
    this.#timing.cancel();
    this.#transports.close();
    this.#clientId = null;
    this.#connectInFlight = false;
    this.#backoff.reset();
    // In-flight publishes go back to the queue (kept for reconnect(), rejected below otherwise).
    this.#requests.failAll(new BayeuxTransportError("client disconnected"));
    this.#publisher.flush();
    this.#subscriptions.forget();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(error);
    if (keep) return;
    this.#publisher.rejectAll(error);
    this.#subscriptions.clear(error);
  }
}
