/**
 * Requests encoded by the client libraries' own encoders (kafkajs's per-version request.js,
 * @platformatic/kafka's createRequest), decoded by our codec and compared field by field with
 * the values the library was given. Every served version a library can encode is covered; the
 * gaps are the table in coverage.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allApiSchemas } from '../../../src/protocol/schema/index.js';
import type { ApiSchema } from '../../../src/protocol/schema/types.js';
import { compile, Reader, versionInRange } from '../../../src/protocol/codec/index.js';
import { compareMessage } from './compare.js';
import { kafkajsLabel, kafkajsVersions, platformaticLabel, platformaticVersions } from './coverage.js';
import { kafkajsRequestEncoder, loadPlatformatic, platformaticApi } from './libraries.js';
import { ourRecords } from './our-records.js';
import { kafkajsRequestBuilders, platformaticRequestBuilders, type BuiltRequest } from './request-builders.js';
import { crossCheckSample } from './samples.js';

function assertDecodesAs(schema: ApiSchema, version: number, body: Buffer, built: BuiltRequest, label: string): void {
  const reader = new Reader(body);
  const decoded = compile(schema.request, version).decode(reader);
  assert.equal(reader.remainingBytes, 0, `${label}: bytes left after our decoder`);
  const comparison = compareMessage(schema.request, version, built.expected, decoded, {
    fieldMap: {},
    readRecords: ourRecords,
    readOurRecords: ourRecords,
  });
  assert.deepStrictEqual(comparison.problems, [], label);
  const fieldsInVersion = schema.request.fields.filter((field) => versionInRange(field.versions, version));
  if (fieldsInVersion.length === 0) assert.equal(body.length, 0, `${label}: a body with no fields`);
  else assert.ok(comparison.comparedValues >= fieldsInVersion.length, `${label}: compared too little`);
}

async function checkKafkajsRequest(schema: ApiSchema, version: number): Promise<void> {
  const label = `${schema.name} v${version} request, ${kafkajsLabel}`;
  const built = kafkajsRequestBuilders.get(schema.apiKey)!(crossCheckSample(schema.request, version), version);
  const request = kafkajsRequestEncoder(schema.name, version)!(built.args);
  assert.deepStrictEqual([request.apiKey, request.apiVersion], [schema.apiKey, version], label);
  assertDecodesAs(schema, version, (await request.encode()).buffer, built, label);
}

async function checkPlatformaticRequest(schema: ApiSchema, version: number): Promise<void> {
  const label = `${schema.name} v${version} request, ${platformaticLabel}`;
  const library = await loadPlatformatic();
  const built = platformaticRequestBuilders.get(schema.apiKey)!(crossCheckSample(schema.request, version), version);
  const writer = platformaticApi(library, schema.name, version)!.createRequest(...(built.args as unknown[]));
  assertDecodesAs(schema, version, writer.buffer, built, label);
}

test('every API a library can encode has a request builder', async () => {
  for (const schema of allApiSchemas) {
    if (kafkajsVersions(schema).length > 0) assert.ok(kafkajsRequestBuilders.has(schema.apiKey), `${kafkajsLabel} ${schema.name}`);
    if ((await platformaticVersions(schema)).length > 0) {
      assert.ok(platformaticRequestBuilders.has(schema.apiKey), `${platformaticLabel} ${schema.name}`);
    }
  }
});

for (const schema of allApiSchemas) {
  const kafkajsServed = kafkajsVersions(schema);
  if (kafkajsServed.length > 0) {
    test(`${schema.name} v${kafkajsServed.join(',')} requests encoded by ${kafkajsLabel}, decoded by our codec`, async () => {
      for (const version of kafkajsServed) await checkKafkajsRequest(schema, version);
    });
  }
  test(`${schema.name} requests encoded by ${platformaticLabel}, decoded by our codec`, async () => {
    const versions = await platformaticVersions(schema);
    assert.ok(versions.length > 0);
    for (const version of versions) await checkPlatformaticRequest(schema, version);
  });
}
