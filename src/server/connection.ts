/**
 * One client connection: frames requests out of socket chunks, decodes them, runs their
 * handlers, and writes responses strictly in request order (clients such as kafka-python
 * insist). Bad input closes only this connection, with a log line saying why.
 */
import type { Socket } from 'node:net';
import {
  decodeRequestBody,
  decodeRequestHeader,
  encodeResponse,
  isSupported,
  ProtocolDecodeError,
  type EncodedMessage,
  type RequestHeader,
} from '../protocol/codec/index.js';
import { ApiKey } from '../protocol/schema/index.js';
import { ErrorCode } from '../protocol/errors.js';
import { Limits } from '../runtime/limits.js';
import { FrameReader, FrameError } from './frame-reader.js';
import type { BrokerServices, RequestHandler } from './services.js';

interface ResponseSlot {
  encoded: EncodedMessage | null;
  done: boolean;
}

export class Connection {
  private readonly frames: FrameReader;
  private readonly slots: ResponseSlot[] = [];
  private closed = false;
  private readingPaused = false;
  readonly description: string;
  private readonly clientHost: string;

  constructor(
    private readonly socket: Socket,
    readonly nodeId: number,
    private readonly services: BrokerServices,
    private readonly handlers: ReadonlyMap<number, RequestHandler>,
    maxRequestSizeBytes: number,
    private readonly onClose: (connection: Connection) => void,
  ) {
    this.description = `${socket.remoteAddress}:${socket.remotePort}->node-${nodeId}`;
    this.clientHost = `/${socket.remoteAddress ?? 'unknown'}`;
    this.frames = new FrameReader(maxRequestSizeBytes);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.services.logger.debug('connection error', { connection: this.description, error: error.message }));
    socket.on('close', () => this.cleanup());
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    try {
      this.frames.push(chunk);
      for (let frame = this.frames.next(); frame !== null; frame = this.frames.next()) {
        this.handleFrame(frame);
        if (this.closed) return;
      }
    } catch (error) {
      if (error instanceof FrameError) this.close(error.message);
      else throw error;
    }
    this.applyBackpressure();
  }

  private handleFrame(frame: Buffer): void {
    let header: RequestHeader;
    try {
      header = decodeRequestHeader(frame);
    } catch (error) {
      this.close(`unreadable request header (${(error as Error).message})`);
      return;
    }
    if (!isSupported(header.apiKey, header.apiVersion) || !this.handlers.has(header.apiKey)) {
      this.rejectUnsupported(header);
      return;
    }
    let body: unknown;
    try {
      body = decodeRequestBody(header.apiKey, header.apiVersion, frame, header.headerSizeBytes);
    } catch (error) {
      if (!(error instanceof ProtocolDecodeError)) throw error;
      this.close(`malformed api ${header.apiKey} v${header.apiVersion} request (${error.message})`);
      return;
    }
    this.run(this.handlers.get(header.apiKey)!, header, body);
  }

  private run(handler: RequestHandler, header: RequestHeader, body: unknown): void {
    const slot: ResponseSlot = { encoded: null, done: false };
    this.slots.push(slot);
    const context = { services: this.services, nodeId: this.nodeId, header, clientHost: this.clientHost };
    let result: unknown;
    try {
      result = handler(context, body as never);
    } catch (error) {
      this.failRequest(header, error);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (response) => this.fill(slot, header, response),
        (error: unknown) => this.failRequest(header, error),
      );
    } else {
      this.fill(slot, header, result);
    }
  }

  private fill(slot: ResponseSlot, header: RequestHeader, response: unknown): void {
    if (this.closed) return;
    try {
      slot.encoded = response === null ? null : encodeResponse(header.apiKey, header.apiVersion, header.correlationId, response);
    } catch (error) {
      this.failRequest(header, error);
      return;
    }
    slot.done = true;
    this.writeReadyResponses();
  }

  /** A handler bug: log it with the stack and drop the connection (the client reconnects). */
  private failRequest(header: RequestHeader, error: unknown): void {
    const detail = error instanceof Error ? error.stack ?? error.message : String(error);
    this.services.logger.error('request failed', { connection: this.description, apiKey: header.apiKey, apiVersion: header.apiVersion, error: detail });
    this.close(`internal error handling api ${header.apiKey}`);
  }

  private writeReadyResponses(): void {
    let wrote = false;
    while (this.slots.length > 0 && this.slots[0]!.done) {
      const slot = this.slots.shift()!;
      if (slot.encoded === null) continue;
      if (!wrote) this.socket.cork();
      wrote = true;
      for (const chunk of slot.encoded.chunks) this.socket.write(chunk);
    }
    if (wrote) this.socket.uncork();
    this.applyBackpressure();
  }

  /**
   * An unknown api or version: ApiVersions gets error 35 in the v0 layout (clients retry with
   * a version they see listed); anything else cannot be answered, so the connection closes.
   */
  private rejectUnsupported(header: RequestHeader): void {
    if (header.apiKey === ApiKey.ApiVersions) {
      const body = { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: this.services.apiVersions, throttleTimeMs: 0 };
      const slot: ResponseSlot = { encoded: encodeResponse(ApiKey.ApiVersions, 0, header.correlationId, body), done: true };
      this.slots.push(slot);
      this.writeReadyResponses();
      return;
    }
    this.close(`unsupported api ${header.apiKey} version ${header.apiVersion}`);
  }

  /** Stops reading while too many requests are in flight or a node's ring is backed up. */
  applyBackpressure(): void {
    if (this.closed) return;
    const nodesBackedUp = this.services.nodes.some((node) => node.isBackedUp);
    const tooMany = this.slots.length >= Limits.maxInFlightRequestsPerConnection || this.socket.writableLength >= Limits.maxQueuedResponseBytesPerConnection;
    if ((tooMany || nodesBackedUp) && !this.readingPaused) {
      this.readingPaused = true;
      this.socket.pause();
    } else if (!tooMany && !nodesBackedUp && this.readingPaused) {
      this.readingPaused = false;
      this.socket.resume();
    }
  }

  close(reason: string): void {
    if (this.closed) return;
    this.services.logger.warn('closing connection', { connection: this.description, reason });
    this.closed = true;
    this.socket.destroy();
    this.cleanup();
  }

  private cleanup(): void {
    this.closed = true;
    this.slots.length = 0;
    this.onClose(this);
  }

  /** Ends the connection quietly (broker shutdown). */
  shutdown(): void {
    this.closed = true;
    this.socket.destroy();
  }
}
