/**
 * A bare-bones Kafka connection for tests: sends requests encoded by our codec (or raw bytes)
 * and reads response frames, with a timeout on every wait. Deliberately independent of
 * src/client so broker tests do not depend on our own client being right.
 */
import { connect, type Socket } from 'node:net';
import { concatChunks, decodeResponse, encodeRequest } from '../../src/protocol/codec/index.js';

export class RawConnection {
  private buffered = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private closedFlag = false;
  private correlationId = 1;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.closedFlag = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(host: string, port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port }, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  static fromBootstrap(bootstrap: string, index = 0): Promise<RawConnection> {
    const [host, port] = bootstrap.split(',')[index]!.split(':');
    return RawConnection.open(host!, Number(port));
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Encodes and sends a request; returns its correlation id. */
  send(apiKey: number, apiVersion: number, body: unknown, clientId = 'raw-test'): number {
    const correlationId = this.correlationId++;
    this.socket.write(concatChunks(encodeRequest(apiKey, apiVersion, correlationId, clientId, body)));
    return correlationId;
  }

  /** Sends a request and decodes its response. */
  async request<T = Record<string, unknown>>(apiKey: number, apiVersion: number, body: unknown, timeoutMs = 10_000): Promise<T> {
    const correlationId = this.send(apiKey, apiVersion, body);
    const frame = await this.readFrame(timeoutMs);
    const decoded = decodeResponse(apiKey, apiVersion, frame);
    if (decoded.correlationId !== correlationId) throw new Error(`correlation id ${decoded.correlationId}, expected ${correlationId}`);
    return decoded.body as T;
  }

  /** The next response frame body (after the size prefix). */
  async readFrame(timeoutMs = 10_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.buffered.length >= 4) {
        const size = this.buffered.readInt32BE(0);
        if (this.buffered.length >= 4 + size) {
          const frame = this.buffered.subarray(4, 4 + size);
          this.buffered = this.buffered.subarray(4 + size);
          return frame;
        }
      }
      if (this.closedFlag) throw new Error('connection closed before a response arrived');
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`no response within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves true if the broker closes the connection within the timeout. */
  async waitForClose(timeoutMs = 5_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closedFlag && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.closedFlag;
  }

  /** True if nothing arrives within `ms` (e.g. acks=0 gets no response). */
  async silentFor(ms: number): Promise<boolean> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.buffered.length === 0;
  }

  close(): void {
    this.socket.destroy();
  }
}
