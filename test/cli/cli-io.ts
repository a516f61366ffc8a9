/** In-memory stdio for running console tools inside a test. */
import { PassThrough, Readable } from 'node:stream';

export interface CapturedIo {
  readonly stdout: PassThrough;
  readonly stderr: PassThrough;
  readonly stdin: Readable;
  out(): string;
  err(): string;
}

export function captureIo(stdinText = ''): CapturedIo {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const outChunks: Buffer[] = [];
  const errChunks: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => outChunks.push(chunk));
  stderr.on('data', (chunk: Buffer) => errChunks.push(chunk));
  return {
    stdout,
    stderr,
    stdin: Readable.from([Buffer.from(stdinText)]),
    out: () => Buffer.concat(outChunks).toString(),
    err: () => Buffer.concat(errChunks).toString(),
  };
}
