/**
 * Just enough of the consumer embedded protocol (protocol type "consumer") for the coordinator:
 * the topics a member subscribes to, read from its JoinGroup metadata. Every version of
 * ConsumerProtocolSubscription starts with the v0 layout (int16 version, then an int32-counted
 * array of int16-length topic names), so reading that prefix works for all of them, as Kafka's
 * GroupMetadata.computeSubscribedTopics does. The assignor's user data that follows is opaque.
 */
import { ProtocolDecodeError, Reader } from '../protocol/codec/index.js';

export const consumerProtocolType = 'consumer';

/** The subscribed topic names, or null when the bytes are not a consumer subscription. */
export function subscriptionTopics(metadata: Buffer): string[] | null {
  try {
    const reader = new Reader(metadata);
    const version = reader.int16('subscription.version');
    if (version < 0) return null;
    // Each topic name needs at least its 2-byte length.
    const count = reader.arrayLength('subscription.topics', false, false, 2);
    const topics: string[] = [];
    for (let index = 0; index < count; index++) topics.push(reader.string('subscription.topic'));
    return topics;
  } catch (error) {
    if (error instanceof ProtocolDecodeError) return null;
    throw error;
  }
}
