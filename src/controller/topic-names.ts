/** Kafka's rules for topic names. */
import { Limits } from '../runtime/limits.js';

const LEGAL = /^[a-zA-Z0-9._-]+$/;
/** KRaft's name for the metadata log; each node keeps it as `__cluster_metadata-0` beside its partitions. */
export const METADATA_TOPIC = '__cluster_metadata';

/** Returns why `name` is not a legal topic name, or null. */
export function topicNameProblem(name: string): string | null {
  if (name.length === 0) return 'topic name is empty';
  if (name === '.' || name === '..') return `topic name "${name}" is not allowed`;
  if (name.length > Limits.maxTopicNameLength) return `topic name is longer than ${Limits.maxTopicNameLength} characters`;
  if (name === METADATA_TOPIC) return `topic name "${METADATA_TOPIC}" is reserved for the metadata log`;
  if (!LEGAL.test(name)) return `topic name "${name}" has characters other than ASCII letters, digits, '.', '_' and '-'`;
  return null;
}

export function isInternalTopic(name: string): boolean {
  return name === '__consumer_offsets' || name === '__transaction_state';
}
