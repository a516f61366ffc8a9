/**
 * Responses encoded by our codec, decoded by the client libraries' own decoders (kafkajs's
 * per-version response.js, @platformatic/kafka's parseResponse), field by field. Round-trip
 * tests use our codec on both sides, so a misordered field passes them; it fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allApiSchemas } from '../../../src/protocol/schema/index.js';
import type { ApiSchema } from '../../../src/protocol/schema/types.js';
import { concatChunks, encodeMessage } from '../../../src/protocol/codec/index.js';
import { compareMessage, type Comparison } from './compare.js';
import {
  kafkajsLabel,
  kafkajsLacks,
  kafkajsVersions,
  missingVersions,
  platformaticLabel,
  platformaticLacks,
  platformaticVersions,
} from './coverage.js';
import {
  kafkajsRecords,
  kafkajsResponseDecoder,
  loadPlatformatic,
  platformaticApi,
  platformaticParse,
  platformaticRecords,
} from './libraries.js';
import { ourRecords } from './our-records.js';
import { kafkajsResponseMaps, platformaticResponseMaps } from './response-maps.js';
import { crossCheckSample } from './samples.js';
import { schemaPaths } from './schema-paths.js';

function encodeSampleResponse(schema: ApiSchema, version: number): { sample: Record<string, unknown>; body: Buffer } {
  const sample = crossCheckSample(schema.response, version);
  return { sample, body: concatChunks(encodeMessage(schema.response, version, sample)) };
}

function assertMatches(comparison: Comparison, label: string): void {
  assert.deepStrictEqual(comparison.problems, [], label);
  assert.ok(comparison.comparedValues > 0, `${label}: compared nothing`);
}

async function checkWithKafkajs(schema: ApiSchema, version: number): Promise<void> {
  const { sample, body } = encodeSampleResponse(schema, version);
  const theirs = await kafkajsResponseDecoder(schema.name, version)!.decode(body);
  const comparison = compareMessage(schema.response, version, sample, theirs, {
    fieldMap: kafkajsResponseMaps[schema.name] ?? {},
    readRecords: kafkajsRecords,
    readOurRecords: ourRecords,
  });
  assertMatches(comparison, `${schema.name} v${version} response, ${kafkajsLabel}`);
}

async function checkWithPlatformatic(schema: ApiSchema, version: number): Promise<void> {
  const library = await loadPlatformatic();
  const { sample, body } = encodeSampleResponse(schema, version);
  const api = platformaticApi(library, schema.name, version)!;
  const { response, unreadBytes } = platformaticParse(library, api, schema.apiKey, version, body);
  const label = `${schema.name} v${version} response, ${platformaticLabel}`;
  assert.equal(unreadBytes, 0, `${label}: bytes left after their parser`);
  const comparison = compareMessage(schema.response, version, sample, response, {
    fieldMap: platformaticResponseMaps[schema.name] ?? {},
    readRecords: platformaticRecords,
    readOurRecords: ourRecords,
  });
  assertMatches(comparison, label);
}

test('coverage: the served versions each library cannot decode are exactly the documented gaps', async () => {
  const kafkajsGaps: Record<string, number[]> = {};
  const platformaticGaps: Record<string, number[]> = {};
  for (const schema of allApiSchemas) {
    const kafkajsMissing = missingVersions(schema, kafkajsVersions(schema));
    if (kafkajsMissing.length > 0) kafkajsGaps[schema.name] = kafkajsMissing;
    const platformaticMissing = missingVersions(schema, await platformaticVersions(schema));
    if (platformaticMissing.length > 0) platformaticGaps[schema.name] = platformaticMissing;
  }
  assert.deepStrictEqual(kafkajsGaps, kafkajsLacks);
  assert.deepStrictEqual(platformaticGaps, platformaticLacks);
});

test('the response field maps name only fields our schemas have', () => {
  for (const [maps, label] of [
    [kafkajsResponseMaps, kafkajsLabel],
    [platformaticResponseMaps, platformaticLabel],
  ] as const) {
    for (const [apiName, fieldMap] of Object.entries(maps)) {
      const schema = allApiSchemas.find((candidate) => candidate.name === apiName);
      assert.ok(schema !== undefined, `${label}: no API ${apiName}`);
      const paths = schemaPaths(schema.response.fields);
      for (const path of Object.keys(fieldMap)) assert.ok(paths.includes(path), `${label} ${apiName}: no field ${path}`);
    }
  }
});

for (const schema of allApiSchemas) {
  const kafkajsServed = kafkajsVersions(schema);
  if (kafkajsServed.length > 0) {
    test(`${schema.name} v${kafkajsServed.join(',')} responses we encode, decoded by ${kafkajsLabel}`, async () => {
      for (const version of kafkajsServed) await checkWithKafkajs(schema, version);
    });
  }
  test(`${schema.name} responses we encode, decoded by ${platformaticLabel}`, async () => {
    const versions = await platformaticVersions(schema);
    assert.ok(versions.length > 0);
    for (const version of versions) await checkWithPlatformatic(schema, version);
  });
}
