/**
 * One TCP connection to one broker: frames cut from the socket by `FrameReader`, requests
 * matched to responses by correlation id, one coarse timer for request timeouts, and the
 * ApiVersions exchange that fixes the version of every API used on this connection.
 *
 * A request that times out closes the connection (as the Java client does): responses come in
 * request order, so a missing one would hold up every later one anyway.
 */
import net from 'node:net';
import { ApiKey, apiSchemas, type ApiKeyValue } from '../protocol/schema/index.js';
import {
  decodeResponse,
  encodeRequest,
  type EncodedMessage,
  type RequestInput,
  type ResponseBody,
} from '../protocol/codec/index.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import { ClientDefaults } from './defaults.js';
import { ConnectionError, RequestTimeoutError } from './errors.js';
import { FrameReader } from './frame-reader.js';
import { NegotiatedVersions } from './versions.js';

export interface ConnectionOptions {
  readonly host: string;
  readonly port: number;
  /** Sent in every request header; null is allowed by the protocol. */
  readonly clientId?: string | null;
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly maxResponseFrameSizeBytes?: number;
  readonly clock?: Clock;
  /** Default true. When false, `versionFor` answers our own maximum for every API. */
  readonly negotiateVersions?: boolean;
}

interface PendingRequest {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly timeoutMs: number;
  readonly deadlineMs: number;
  readonly resolve: (body: Record<string, unknown>) => void;
  readonly reject: (error: Error) => void;
}

const maxCorrelationId = 0x7fffffff;
const responseHeaderV0Bytes = 4;

export class BrokerConnection {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  private readonly socket: net.Socket;
  private readonly clientId: string | null;
  private readonly requestTimeoutMs: number;
  private readonly clock: Clock;
  private readonly frameReader: FrameReader;
  private readonly pending = new Map<number, PendingRequest>();
  private nextCorrelationId = 1;
  private timeoutTimer: NodeJS.Timeout | null = null;
  /** Why the connection closed; null while open. Each failure gets a fresh error from it. */
  private closedReason: string | null = null;
  private closedCause: unknown = undefined;
  private negotiated: NegotiatedVersions = NegotiatedVersions.ourMaxima();
  private readonly closed: Promise<void>;

  private constructor(socket: net.Socket, options: ConnectionOptions) {
    this.host = options.host;
    this.port = options.port;
    this.address = formatAddress(options.host, options.port);
    this.socket = socket;
    this.clientId = options.clientId === undefined ? ClientDefaults.clientId : options.clientId;
    this.requestTimeoutMs = options.requestTimeoutMs ?? ClientDefaults.requestTimeoutMs;
    this.clock = options.clock ?? systemClock;
    this.frameReader = new FrameReader(options.maxResponseFrameSizeBytes ?? ClientDefaults.maxResponseFrameSizeBytes);
    this.closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error: Error) => {
      this.markClosed(`connection failed: ${error.message}`, error);
    });
    socket.on('close', () => this.onClose());
  }

  /** Opens the connection and, unless told not to, negotiates API versions. */
  static async connect(options: ConnectionOptions): Promise<BrokerConnection> {
    const connectTimeoutMs = options.connectTimeoutMs ?? ClientDefaults.connectTimeoutMs;
    const socket = await openSocket(options.host, options.port, connectTimeoutMs);
    const connection = new BrokerConnection(socket, options);
    if (options.negotiateVersions === false) return connection;
    try {
      await connection.negotiateVersions();
    } catch (error) {
      await connection.close();
      throw error;
    }
    return connection;
  }

  get isOpen(): boolean {
    return this.closedReason === null;
  }

  get inFlightRequestCount(): number {
    return this.pending.size;
  }

  get versions(): NegotiatedVersions {
    return this.negotiated;
  }

  /** The negotiated version of an API; throws UNSUPPORTED_VERSION if there is none. */
  versionFor(apiKey: number): number {
    return this.negotiated.versionFor(apiKey);
  }

  /** Sends one request and resolves with the decoded response body. */
  request<K extends ApiKeyValue>(
    apiKey: K,
    apiVersion: number,
    body: RequestInput<K>,
    timeoutMs: number = this.requestTimeoutMs,
  ): Promise<ResponseBody<K>> {
    if (this.closedReason !== null) return Promise.reject(this.closedError());
    const correlationId = this.allocateCorrelationId();
    let encoded: EncodedMessage;
    try {
      encoded = encodeRequest(apiKey as number, apiVersion, correlationId, this.clientId, body);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<ResponseBody<K>>((resolve, reject) => {
      this.pending.set(correlationId, {
        apiKey,
        apiVersion,
        timeoutMs,
        deadlineMs: this.clock.nowMs() + timeoutMs,
        resolve: resolve as (body: Record<string, unknown>) => void,
        reject,
      });
      this.startTimeoutTimer();
      this.writeFrame(encoded, undefined);
    });
  }

  /** Sends at the negotiated version. */
  requestNegotiated<K extends ApiKeyValue>(apiKey: K, body: RequestInput<K>, timeoutMs?: number): Promise<ResponseBody<K>> {
    let version: number;
    try {
      version = this.versionFor(apiKey);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.request(apiKey, version, body, timeoutMs);
  }

  /**
   * Sends a request the broker does not answer (Produce with acks=0). Resolves once the socket
   * has taken the bytes, which paces a caller that sends in a loop.
   */
  sendWithoutResponse<K extends ApiKeyValue>(apiKey: K, apiVersion: number, body: RequestInput<K>): Promise<void> {
    if (this.closedReason !== null) return Promise.reject(this.closedError());
    let encoded: EncodedMessage;
    try {
      encoded = encodeRequest(apiKey as number, apiVersion, this.allocateCorrelationId(), this.clientId, body);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<void>((resolve, reject) => {
      this.writeFrame(encoded, (error) => {
        if (error === null || error === undefined) resolve();
        else reject(this.closedReason === null ? new ConnectionError(this.address, `write failed: ${error.message}`) : this.closedError());
      });
    });
  }

  /** Fails requests still in flight, flushes queued writes (bounded), closes the socket. */
  close(): Promise<void> {
    if (this.closedReason === null) {
      this.markClosed('connection closed by the client', undefined);
      this.failPending();
      this.socket.end();
      setTimeout(() => this.socket.destroy(), ClientDefaults.closeFlushTimeoutMs).unref();
    } else {
      this.socket.destroy();
    }
    return this.closed;
  }

  private async negotiateVersions(): Promise<void> {
    let response = await this.request(ApiKey.ApiVersions, 3, {
      clientSoftwareName: ClientDefaults.clientSoftwareName,
      clientSoftwareVersion: ClientDefaults.clientSoftwareVersion,
    });
    if (response.errorCode === ErrorCode.UNSUPPORTED_VERSION) {
      response = await this.request(ApiKey.ApiVersions, 0, {});
    }
    if (response.errorCode !== ErrorCode.NONE) {
      throw new KafkaError(response.errorCode, `${this.address}: ApiVersions failed`);
    }
    this.negotiated = NegotiatedVersions.fromBroker(response.apiKeys);
  }

  private allocateCorrelationId(): number {
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = correlationId === maxCorrelationId ? 0 : correlationId + 1;
    return correlationId;
  }

  private writeFrame(encoded: EncodedMessage, onWritten: ((error?: Error | null) => void) | undefined): void {
    const chunks = encoded.chunks;
    const last = chunks.length - 1;
    this.socket.cork();
    for (let index = 0; index < last; index++) this.socket.write(chunks[index]!);
    this.socket.write(chunks[last]!, onWritten);
    this.socket.uncork();
  }

  private onData(chunk: Buffer): void {
    this.frameReader.push(chunk);
    try {
      let frame = this.frameReader.nextFrame();
      while (frame !== undefined && this.closedReason === null) {
        this.onFrame(frame);
        frame = this.frameReader.nextFrame();
      }
    } catch (error) {
      this.destroy(`broken response stream: ${(error as Error).message}`, error);
    }
  }

  private onFrame(frame: Buffer): void {
    if (frame.length < responseHeaderV0Bytes) {
      this.destroy(`response frame of ${frame.length} bytes has no correlation id`, undefined);
      return;
    }
    const correlationId = frame.readInt32BE(0);
    const pending = this.pending.get(correlationId);
    if (pending === undefined) {
      this.destroy(`response with unknown correlation id ${correlationId}`, undefined);
      return;
    }
    this.pending.delete(correlationId);
    if (this.pending.size === 0) this.stopTimeoutTimer();
    let body: Record<string, unknown>;
    try {
      body = decodeResponseBody(pending.apiKey, pending.apiVersion, frame);
    } catch (error) {
      const message = `cannot decode ${requestName(pending)} response: ${(error as Error).message}`;
      pending.reject(new ConnectionError(this.address, message, { cause: error }));
      return;
    }
    pending.resolve(body);
  }

  private startTimeoutTimer(): void {
    if (this.timeoutTimer !== null) return;
    this.timeoutTimer = setInterval(() => this.expireRequests(), ClientDefaults.timeoutCheckIntervalMs);
    this.timeoutTimer.unref();
  }

  private stopTimeoutTimer(): void {
    if (this.timeoutTimer === null) return;
    clearInterval(this.timeoutTimer);
    this.timeoutTimer = null;
  }

  private expireRequests(): void {
    const nowMs = this.clock.nowMs();
    for (const [correlationId, pending] of this.pending) {
      if (nowMs < pending.deadlineMs) continue;
      this.pending.delete(correlationId);
      const timeout = new RequestTimeoutError(this.address, requestName(pending), pending.timeoutMs);
      pending.reject(timeout);
      this.destroy(`connection closed after ${requestName(pending)} got no response within ${pending.timeoutMs} ms`, timeout);
      return;
    }
  }

  private destroy(reason: string, cause: unknown): void {
    this.markClosed(reason, cause);
    this.failPending();
    this.socket.destroy();
  }

  /** Keeps the first reason: later ones are consequences of it. */
  private markClosed(reason: string, cause: unknown): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    this.closedCause = cause;
  }

  private closedError(): ConnectionError {
    const cause = this.closedCause;
    return new ConnectionError(this.address, this.closedReason ?? 'connection closed', cause === undefined ? undefined : { cause });
  }

  private onClose(): void {
    this.markClosed('connection closed by the broker', undefined);
    this.failPending();
  }

  private failPending(): void {
    this.stopTimeoutTimer();
    if (this.pending.size === 0) return;
    const failed = [...this.pending.values()];
    this.pending.clear();
    for (const pending of failed) pending.reject(this.closedError());
  }

}

/**
 * Decodes a response frame body. Surprise: a broker that does not serve the ApiVersions
 * version we sent answers UNSUPPORTED_VERSION in the v0 layout, whatever version we asked for.
 */
function decodeResponseBody(apiKey: number, apiVersion: number, frame: Buffer): Record<string, unknown> {
  if (
    apiKey === ApiKey.ApiVersions &&
    apiVersion > 0 &&
    frame.length >= responseHeaderV0Bytes + 2 &&
    frame.readInt16BE(responseHeaderV0Bytes) === ErrorCode.UNSUPPORTED_VERSION
  ) {
    return decodeResponse(apiKey, 0, frame).body;
  }
  return decodeResponse(apiKey, apiVersion, frame).body;
}

function requestName(pending: PendingRequest): string {
  const name = apiSchemas.get(pending.apiKey)?.name ?? `api ${pending.apiKey}`;
  return `${name} v${pending.apiVersion}`;
}

export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function openSocket(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  const address = formatAddress(host, port);
  return new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect({ host, port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ConnectionError(address, `connect timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const onError = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(new ConnectionError(address, `cannot connect: ${error.message}`, { cause: error }));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      resolve(socket);
    });
  });
}
