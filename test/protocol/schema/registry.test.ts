import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKey, allApiSchemas, apiSchemas } from '../../../src/protocol/schema/index.js';
import type { FieldSchema, MessageSchema } from '../../../src/protocol/schema/types.js';
import {
  compile,
  isSupported,
  parseVersionRange,
  supportedVersionRanges,
  versionInRange,
} from '../../../src/protocol/codec/index.js';

/** The ranges we advertise (KAFKA-CLIENTS.md, bold column). */
const advertised: Record<keyof typeof ApiKey, string> = {
  Produce: '3-7',
  Fetch: '4-11',
  ListOffsets: '1-3',
  Metadata: '0-8',
  OffsetCommit: '2-7',
  OffsetFetch: '1-5',
  FindCoordinator: '0-2',
  JoinGroup: '0-5',
  Heartbeat: '0-3',
  LeaveGroup: '0-3',
  SyncGroup: '0-3',
  DescribeGroups: '0-4',
  ListGroups: '0-2',
  SaslHandshake: '0-1',
  ApiVersions: '0-3',
  CreateTopics: '0-4',
  DeleteTopics: '0-3',
  DeleteRecords: '0-1',
  // KAFKA-CLIENTS.md advertises 0-1 to keep every served version non-flexible; 2-4 are served for
  // platformatic (sends 4) and librdkafka (sends 4); kafkajs stays on 1.
  InitProducerId: '0-4',
  // Not in KAFKA-CLIENTS.md's table (no client there calls it): served for KIP-320 consumers.
  OffsetForLeaderEpoch: '0-4',
  AddPartitionsToTxn: '0-1',
  AddOffsetsToTxn: '0-1',
  EndTxn: '0-1',
  TxnOffsetCommit: '0-2',
  DescribeConfigs: '0-2',
  AlterConfigs: '0-1',
  SaslAuthenticate: '0-1',
  CreatePartitions: '0-1',
  DeleteGroups: '0-1',
  OffsetDelete: '0',
};

/** Kafka's first flexible version per API (KAFKA-CLIENTS.md "F"). */
const firstFlexible: Partial<Record<keyof typeof ApiKey, number>> = {
  Produce: 9, Fetch: 12, ListOffsets: 6, Metadata: 9, OffsetCommit: 8, OffsetFetch: 6,
  FindCoordinator: 3, JoinGroup: 6, Heartbeat: 4, LeaveGroup: 4, SyncGroup: 4, ApiVersions: 3,
  InitProducerId: 2, OffsetForLeaderEpoch: 4, AddPartitionsToTxn: 3, AddOffsetsToTxn: 3, EndTxn: 3, TxnOffsetCommit: 3,
  DescribeGroups: 5, ListGroups: 3, CreateTopics: 5, DeleteTopics: 4, DeleteRecords: 2,
  DescribeConfigs: 4, AlterConfigs: 2, CreatePartitions: 2, DeleteGroups: 2, SaslAuthenticate: 2,
};

test('the registry holds one schema per ApiKey entry, with matching names and keys', () => {
  assert.equal(apiSchemas.size, Object.keys(ApiKey).length);
  for (const [name, apiKey] of Object.entries(ApiKey)) {
    const schema = apiSchemas.get(apiKey);
    assert.ok(schema, name);
    assert.equal(schema.name, name);
    assert.equal(schema.request.apiKey, apiKey);
    assert.equal(schema.response.apiKey, apiKey);
    assert.equal(schema.request.name, `${name}Request`);
    assert.equal(schema.response.name, `${name}Response`);
    assert.equal(schema.request.type, 'request');
    assert.equal(schema.response.type, 'response');
  }
});

test('valid versions are exactly the advertised ranges, for requests and responses', () => {
  for (const [name, range] of Object.entries(advertised)) {
    const schema = apiSchemas.get(ApiKey[name as keyof typeof ApiKey])!;
    assert.equal(schema.request.validVersions, range, name);
    assert.equal(schema.response.validVersions, range, name);
  }
  const ranges = supportedVersionRanges();
  assert.equal(ranges.length, 30);
  assert.deepStrictEqual(ranges.find((range) => range.apiKey === ApiKey.ApiVersions), { apiKey: 18, minVersion: 0, maxVersion: 3 });
  assert.deepStrictEqual(ranges.map((range) => range.apiKey), [...ranges.map((range) => range.apiKey)].sort((a, b) => a - b));
});

test('flexible versions match Kafka; inside our ranges only ApiVersions 3, InitProducerId 2-4 and OffsetForLeaderEpoch 4 are flexible', () => {
  for (const [name, first] of Object.entries(firstFlexible)) {
    const schema = apiSchemas.get(ApiKey[name as keyof typeof ApiKey])!;
    assert.equal(schema.request.flexibleVersions, `${first}+`, name);
    assert.equal(schema.response.flexibleVersions, `${first}+`, name);
  }
  assert.equal(apiSchemas.get(ApiKey.SaslHandshake)!.request.flexibleVersions, 'none');
  const flexibleInRange: string[] = [];
  for (const api of allApiSchemas) {
    const range = parseVersionRange(api.request.validVersions);
    for (let version = range.min; version <= range.max; version++) {
      if (versionInRange(api.request.flexibleVersions, version)) flexibleInRange.push(`${api.name} v${version}`);
    }
  }
  assert.deepStrictEqual(flexibleInRange, ['ApiVersions v3', 'InitProducerId v2', 'InitProducerId v3', 'InitProducerId v4', 'OffsetForLeaderEpoch v4']);
});

test('isSupported answers exactly for the advertised ranges', () => {
  assert.equal(isSupported(ApiKey.Produce, 2), false);
  assert.equal(isSupported(ApiKey.Produce, 3), true);
  assert.equal(isSupported(ApiKey.Produce, 7), true);
  assert.equal(isSupported(ApiKey.Produce, 8), false);
  assert.equal(isSupported(ApiKey.ApiVersions, 4), false);
  assert.equal(isSupported(ApiKey.OffsetForLeaderEpoch, 0), true);
  assert.equal(isSupported(ApiKey.OffsetForLeaderEpoch, 4), true);
  assert.equal(isSupported(ApiKey.OffsetForLeaderEpoch, 5), false);
  assert.equal(isSupported(ApiKey.OffsetDelete, 0), true);
  assert.equal(isSupported(ApiKey.InitProducerId, 4), true);
  assert.equal(isSupported(ApiKey.InitProducerId, 5), false);
});

function checkFields(fields: readonly FieldSchema[], path: string, message: MessageSchema): void {
  const range = parseVersionRange(message.validVersions);
  const names = new Set<string>();
  const tags = new Set<number>();
  for (const field of fields) {
    const fieldPath = `${path}.${field.name}`;
    assert.match(field.name, /^[a-z][A-Za-z0-9]*$/, `${fieldPath}: camelCase`);
    assert.ok(!names.has(field.name), `${fieldPath}: duplicate`);
    names.add(field.name);
    const versions = parseVersionRange(field.versions);
    assert.ok(versions.min <= range.max && versions.max >= range.min, `${fieldPath}: never present in ${message.validVersions}`);
    if (field.taggedVersions !== undefined) {
      assert.equal(typeof field.tag, 'number', `${fieldPath}: tag`);
      assert.ok(!tags.has(field.tag!), `${fieldPath}: duplicate tag`);
      tags.add(field.tag!);
    }
    if (field.fields !== undefined) checkFields(field.fields, fieldPath, message);
  }
}

test('every field is camelCase, unique, and present in some served version', () => {
  for (const api of allApiSchemas) {
    for (const message of [api.request, api.response]) checkFields(message.fields, message.name, message);
  }
});

test('every served (api, version) compiles', () => {
  for (const api of allApiSchemas) {
    const range = parseVersionRange(api.request.validVersions);
    for (let version = range.min; version <= range.max; version++) {
      assert.equal(compile(api.request, version).version, version);
      assert.equal(compile(api.response, version).flexible, versionInRange(api.response.flexibleVersions, version));
    }
  }
});
