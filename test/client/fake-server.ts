/**
 * A scriptable Kafka-speaking TCP server on 127.0.0.1 for client tests: every request frame is
 * handed to a handler, whose replies are written in request order per connection.
 */
import net from 'node:net';
import { decodeRequestHeader, type EncodedMessage, type RequestHeader } from '../../src/protocol/codec/index.js';

/** An encoded frame, nothing (acks=0 or a lost reply), or closing the connection. */
export type FakeReply = EncodedMessage | 'no-response' | 'close';

export interface FakeRequest {
  readonly header: RequestHeader;
  /** The frame body after the size prefix; the request body starts at header.headerSizeBytes. */
  readonly frame: Buffer;
  readonly socket: net.Socket;
}

export type FakeHandler = (request: FakeRequest) => FakeReply | Promise<FakeReply>;

export class FakeServer {
  readonly received: RequestHeader[] = [];
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private handler: FakeHandler;
  port = 0;

  private constructor(handler: FakeHandler) {
    this.handler = handler;
    this.server = net.createServer((socket) => this.accept(socket));
  }

  static async start(handler: FakeHandler, port = 0): Promise<FakeServer> {
    const server = new FakeServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.server.listen(port, '127.0.0.1', () => resolve());
    });
    server.port = (server.server.address() as net.AddressInfo).port;
    return server;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  setHandler(handler: FakeHandler): void {
    this.handler = handler;
  }

  /** Drops every open connection (the listener stays). */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    let replies: Promise<void> = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        const size = buffered.readInt32BE(0);
        const frame = Buffer.from(buffered.subarray(4, 4 + size));
        buffered = buffered.subarray(4 + size);
        const header = decodeRequestHeader(frame);
        this.received.push(header);
        const request: FakeRequest = { header, frame, socket };
        replies = replies.then(async () => this.reply(socket, await this.handler(request)));
      }
    });
  }

  private reply(socket: net.Socket, reply: FakeReply): void {
    if (socket.destroyed) return;
    if (reply === 'no-response') return;
    if (reply === 'close') {
      socket.destroy();
      return;
    }
    socket.write(Buffer.concat(reply.chunks, reply.sizeBytes));
  }
}
