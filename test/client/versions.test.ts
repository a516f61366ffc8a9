import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NegotiatedVersions, pickVersion } from '../../src/client/versions.js';
import { ApiKey } from '../../src/protocol/schema/index.js';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';

test('pickVersion takes min(our max, broker max) when it lies in both ranges', () => {
  assert.equal(pickVersion({ min: 3, max: 7 }, { apiKey: 0, minVersion: 0, maxVersion: 9 }), 7);
  assert.equal(pickVersion({ min: 3, max: 7 }, { apiKey: 0, minVersion: 0, maxVersion: 5 }), 5);
  assert.equal(pickVersion({ min: 3, max: 7 }, { apiKey: 0, minVersion: 0, maxVersion: 2 }), undefined);
  assert.equal(pickVersion({ min: 0, max: 2 }, { apiKey: 0, minVersion: 3, maxVersion: 9 }), undefined);
});

test('NegotiatedVersions explains an API the broker lacks or cannot meet', () => {
  const versions = NegotiatedVersions.fromBroker([
    { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 12 },
    { apiKey: ApiKey.Produce, minVersion: 0, maxVersion: 2 },
  ]);
  assert.equal(versions.versionFor(ApiKey.Metadata), 8);
  assert.throws(
    () => versions.versionFor(ApiKey.Produce),
    (error: unknown) =>
      error instanceof KafkaError &&
      error.code === ErrorCode.UNSUPPORTED_VERSION &&
      /Produce: this client speaks versions 3-7, the broker 0-2/.test(error.message),
  );
  assert.throws(() => versions.versionFor(ApiKey.Fetch), /Fetch: .* the broker not at all/);
});

test('without negotiation every API uses our maximum', () => {
  const versions = NegotiatedVersions.ourMaxima();
  assert.equal(versions.versionFor(ApiKey.Fetch), 11);
  assert.equal(versions.versionFor(ApiKey.ApiVersions), 3);
});
