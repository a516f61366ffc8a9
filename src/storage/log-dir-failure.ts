/**
 * A failed log dir (Kafka's LogDirFailureChannel). When a write to a node's data dir fails
 * with an I/O error (a full disk, a failing one), nothing written since the last fsync can be
 * trusted to reach the disk, and later writes would fail alike: the whole dir goes offline.
 * Its partitions answer KAFKA_STORAGE_ERROR to produce and fetch, waiting acknowledgements
 * are failed, no checkpoint moves past what is durable, and the rest of the broker runs on.
 * What was acknowledged stays on disk (segments or the node journal) for the restart.
 */
import { ErrorCode, KafkaError } from '../protocol/errors.js';

/** errno codes that mean the storage under the log dir failed, not the program. */
const STORAGE_ERROR_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EIO', 'EDQUOT', 'EROFS']);

export function isStorageIoError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && STORAGE_ERROR_CODES.has(code);
}

export type LogDirOfflineListener = (cause: Error, operation: string) => void;

export class LogDirFailure {
  private failure: Error | null = null;
  private failedOperation = '';
  private readonly listeners: LogDirOfflineListener[] = [];

  constructor(readonly directory: string) {}

  get isOffline(): boolean {
    return this.failure !== null;
  }

  /** Why the dir is offline, or null. */
  get cause(): Error | null {
    return this.failure;
  }

  /** Called once, when the dir goes offline. */
  onOffline(listener: LogDirOfflineListener): void {
    this.listeners.push(listener);
  }

  /**
   * Takes the dir offline after `error` in `operation` (the first failure is the one kept and
   * told) and returns the KAFKA_STORAGE_ERROR to answer with.
   */
  fail(error: unknown, operation: string): KafkaError {
    if (this.failure === null) {
      this.failure = error instanceof Error ? error : new Error(String(error));
      this.failedOperation = operation;
      for (const listener of this.listeners) listener(this.failure, operation);
    }
    return this.offlineError();
  }

  offlineError(): KafkaError {
    const cause = this.failure?.message ?? 'no failure';
    return new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `log dir ${this.directory} is offline after a failed ${this.failedOperation}: ${cause}`);
  }

  /**
   * The error to throw for `error` raised by a write: a KafkaError as it is, an I/O error after
   * taking the dir offline, anything else (a bug) as it is.
   */
  classify(error: unknown, operation: string): unknown {
    if (error instanceof KafkaError) return error;
    if (isStorageIoError(error)) return this.fail(error, operation);
    return error;
  }
}
