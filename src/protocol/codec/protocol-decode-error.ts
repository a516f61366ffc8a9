/**
 * Thrown when bytes from the network do not decode: truncated frames, negative or oversized
 * lengths, malformed varints, null where the schema forbids it. An operating error, not a bug:
 * the server closes the connection and logs the message.
 */
export class ProtocolDecodeError extends Error {
  /** Byte offset in the decoded buffer where decoding failed. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.name = 'ProtocolDecodeError';
    this.offset = offset;
  }
}
