/**
 * DescribeConfigs and AlterConfigs for topics (resource type 2) and, read-only, for brokers
 * (resource type 4).
 */
import { brokerSettings, type BrokerSettingName } from '../../config/broker-config.js';
import { effectiveTopicConfig, topicConfigSpecs } from '../../config/topic-config.js';
import type { RequestBody } from '../../protocol/codec/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { ApiKey } from '../../protocol/schema/index.js';
import type { RequestContext } from '../services.js';

const ResourceType = { TOPIC: 2, BROKER: 4 } as const;
/** DescribeConfigs v1+ config sources. */
const ConfigSource = { TOPIC: 1, STATIC_BROKER: 4, DEFAULT: 5 } as const;

interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  configSource: number;
  isSensitive: boolean;
  synonyms: Array<{ name: string; value: string | null; source: number }>;
}

export function handleDescribeConfigs(context: RequestContext, request: RequestBody<typeof ApiKey.DescribeConfigs>): unknown {
  const results = request.resources.map((resource) => {
    const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
    const wanted = (name: string) => resource.configurationKeys === null || resource.configurationKeys.length === 0 || resource.configurationKeys.includes(name);
    if (resource.resourceType === ResourceType.TOPIC) {
      const topic = context.services.image.topic(resource.resourceName);
      if (topic === undefined) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `topic ${resource.resourceName} does not exist`, configs: [] };
      const configs = Object.keys(topicConfigSpecs).filter(wanted).map((name) => topicEntry(context, name, topic.configs, request.includeSynonyms));
      return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs };
    }
    if (resource.resourceType === ResourceType.BROKER) {
      const configs = (Object.keys(brokerSettings) as BrokerSettingName[]).filter(wanted).map((name) => brokerEntry(context, name));
      return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs };
    }
    return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `resource type ${resource.resourceType} is not supported`, configs: [] };
  });
  return { throttleTimeMs: 0, results };
}

function topicEntry(context: RequestContext, name: string, overrides: Readonly<Record<string, string>>, includeSynonyms: boolean): ConfigEntry {
  const { value, source } = effectiveTopicConfig(name, overrides, context.services.settings);
  const configSource = source === 'topic' ? ConfigSource.TOPIC : source === 'broker' ? ConfigSource.STATIC_BROKER : ConfigSource.DEFAULT;
  return {
    name,
    value,
    readOnly: false,
    isDefault: source !== 'topic',
    configSource,
    isSensitive: false,
    synonyms: includeSynonyms ? [{ name, value, source: configSource }] : [],
  };
}

function brokerEntry(context: RequestContext, name: BrokerSettingName): ConfigEntry {
  const value = String(context.services.settings[name]);
  const isDefault = value === String(brokerSettings[name].default);
  return { name, value, readOnly: true, isDefault, configSource: isDefault ? ConfigSource.DEFAULT : ConfigSource.STATIC_BROKER, isSensitive: false, synonyms: [] };
}

export async function handleAlterConfigs(context: RequestContext, request: RequestBody<typeof ApiKey.AlterConfigs>): Promise<unknown> {
  const topicResources = request.resources.filter((resource) => resource.resourceType === ResourceType.TOPIC);
  const outcomes = await context.services.controller.alterTopicConfigs(
    topicResources.map((resource) => ({ name: resource.resourceName, configs: resource.configs })),
    request.validateOnly,
  );
  const byName = new Map(outcomes.map((outcome) => [outcome.name, outcome]));
  const responses = request.resources.map((resource) => {
    const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
    if (resource.resourceType !== ResourceType.TOPIC) {
      return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'only topic configs can be altered; broker settings come from the config file' };
    }
    const outcome = byName.get(resource.resourceName)!;
    return { ...base, errorCode: outcome.errorCode, errorMessage: outcome.errorMessage };
  });
  return { throttleTimeMs: 0, responses };
}
