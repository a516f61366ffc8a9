/**
 * Always-on assertions for invariants (STYLE rule 4): a broken invariant is a programmer error,
 * never bad input, so it throws InvariantError with a message saying what broke. Operating
 * errors (a client's malformed batch, a full disk) become Kafka error codes instead.
 */

export class InvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantError';
  }
}

/** Throws InvariantError(`message`) unless `condition` holds. Build costly messages lazily. */
export function assert(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) throw new InvariantError(typeof message === 'string' ? message : message());
}

/** For the default branch of an exhaustive switch: a value the types say cannot exist. */
export function assertNever(value: never, what: string): never {
  throw new InvariantError(`unexpected ${what}: ${JSON.stringify(value)}`);
}
