/**
 * Topic-level configs (CreateTopics, AlterConfigs, DescribeConfigs): Kafka's names, their
 * broker-level defaults, validation, and the LogConfig a partition log runs with.
 */
import { defaultLogConfig, type FlushPolicyName, type LogConfig } from '../storage/log-config.js';
import type { BrokerSettings } from './broker-config.js';

type TopicConfigType = 'long' | 'int' | 'double' | 'string' | 'boolean' | 'list';

interface TopicConfigSpec {
  type: TopicConfigType;
  /** The broker setting that supplies the default. */
  brokerSetting: keyof BrokerSettings | null;
  fallback: string;
  min?: number;
  max?: number;
  allowed?: readonly string[];
}

export const topicConfigSpecs: Readonly<Record<string, TopicConfigSpec>> = {
  'cleanup.policy': { type: 'list', brokerSetting: 'log.cleanup.policy', fallback: 'delete', allowed: ['delete', 'compact'] },
  'retention.ms': { type: 'long', brokerSetting: 'log.retention.ms', fallback: '604800000', min: -1 },
  'retention.bytes': { type: 'long', brokerSetting: 'log.retention.bytes', fallback: '-1', min: -1 },
  'segment.bytes': { type: 'int', brokerSetting: 'log.segment.bytes', fallback: '1073741824', min: 1024, max: 0x7fffffff },
  'segment.ms': { type: 'long', brokerSetting: 'log.roll.ms', fallback: '604800000', min: 1 },
  'segment.index.bytes': { type: 'int', brokerSetting: 'log.segment.index.bytes', fallback: '10485760', min: 64 },
  'index.interval.bytes': { type: 'int', brokerSetting: 'log.index.interval.bytes', fallback: '4096', min: 0 },
  'max.message.bytes': { type: 'int', brokerSetting: 'message.max.bytes', fallback: '1048588', min: 0 },
  'message.timestamp.type': { type: 'string', brokerSetting: 'log.message.timestamp.type', fallback: 'CreateTime', allowed: ['CreateTime', 'LogAppendTime'] },
  'min.insync.replicas': { type: 'int', brokerSetting: 'min.insync.replicas', fallback: '1', min: 1 },
  'delete.retention.ms': { type: 'long', brokerSetting: 'log.cleaner.delete.retention.ms', fallback: '86400000', min: 0 },
  'min.cleanable.dirty.ratio': { type: 'double', brokerSetting: 'log.cleaner.min.cleanable.ratio', fallback: '0.5', min: 0, max: 1 },
  'compression.type': { type: 'string', brokerSetting: null, fallback: 'producer', allowed: ['producer'] },
  'unclean.leader.election.enable': { type: 'boolean', brokerSetting: 'unclean.leader.election.enable', fallback: 'false' },
  preallocate: { type: 'boolean', brokerSetting: 'log.preallocate', fallback: 'true' },
};

/** Returns why `value` is not acceptable for `name`, or null. */
export function checkTopicConfig(name: string, value: string | null, maxMessageBytesCeiling: number): string | null {
  const spec = topicConfigSpecs[name];
  if (spec === undefined) return `unknown topic config "${name}"`;
  if (value === null) return null; // null resets to the default
  switch (spec.type) {
    case 'long':
    case 'int':
    case 'double': {
      const number = Number(value);
      if (value.trim() === '' || !Number.isFinite(number)) return `${name} must be a number, got "${value}"`;
      if (spec.type !== 'double' && !Number.isSafeInteger(number)) return `${name} must be an integer, got "${value}"`;
      if (spec.min !== undefined && number < spec.min) return `${name} must be at least ${spec.min}, got ${value}`;
      if (spec.max !== undefined && number > spec.max) return `${name} must be at most ${spec.max}, got ${value}`;
      if (name === 'max.message.bytes' && number > maxMessageBytesCeiling) return `max.message.bytes must be at most ${maxMessageBytesCeiling} here, got ${value}`;
      return null;
    }
    case 'boolean':
      return value === 'true' || value === 'false' ? null : `${name} must be true or false, got "${value}"`;
    case 'list': {
      const entries = value.split(',').map((entry) => entry.trim());
      const bad = entries.find((entry) => !spec.allowed!.includes(entry));
      return bad === undefined && entries.length > 0 ? null : `${name} must be a list of ${spec.allowed!.join(', ')}, got "${value}"`;
    }
    case 'string':
      return spec.allowed && !spec.allowed.includes(value) ? `${name} must be one of ${spec.allowed.join(', ')}, got "${value}"` : null;
  }
}

/** The value in force for `name`: the topic override, else the broker default. */
export function effectiveTopicConfig(name: string, overrides: Readonly<Record<string, string>>, broker: BrokerSettings): { value: string; source: 'topic' | 'broker' | 'default' } {
  const override = overrides[name];
  if (override !== undefined) return { value: override, source: 'topic' };
  const spec = topicConfigSpecs[name]!;
  if (spec.brokerSetting !== null) {
    const brokerValue = String(broker[spec.brokerSetting]);
    const builtIn = spec.fallback;
    return { value: brokerValue, source: brokerValue === builtIn ? 'default' : 'broker' };
  }
  return { value: spec.fallback, source: 'default' };
}

/** The storage config of a topic's partition logs. */
export function logConfigFor(overrides: Readonly<Record<string, string>>, broker: BrokerSettings): LogConfig {
  const value = (name: string) => effectiveTopicConfig(name, overrides, broker).value;
  return {
    ...defaultLogConfig,
    segmentBytes: Number(value('segment.bytes')),
    segmentMs: Number(value('segment.ms')),
    segmentIndexBytes: Number(value('segment.index.bytes')),
    indexIntervalBytes: Number(value('index.interval.bytes')),
    retentionMs: Number(value('retention.ms')),
    retentionBytes: Number(value('retention.bytes')),
    maxMessageBytes: Number(value('max.message.bytes')),
    messageTimestampType: value('message.timestamp.type') as LogConfig['messageTimestampType'],
    cleanupPolicy: value('cleanup.policy'),
    deleteRetentionMs: Number(value('delete.retention.ms')),
    minCleanableDirtyRatio: Number(value('min.cleanable.dirty.ratio')),
    flushPolicy: broker['log.flush.policy'] as FlushPolicyName,
    flushIntervalMs: broker['log.flush.interval.ms'],
    preallocate: value('preallocate') === 'true',
    minInsyncReplicas: Number(value('min.insync.replicas')),
  };
}
