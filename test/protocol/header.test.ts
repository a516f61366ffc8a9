import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeRequestHeader,
  decodeResponseHeader,
  encodeRequestHeader,
  encodeResponseHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../../src/protocol/header.js';
import { ApiKey } from '../../src/protocol/schema/index.js';
import { ProtocolDecodeError, Writer, concatChunks } from '../../src/protocol/codec/index.js';

function bytesOf(fill: (writer: Writer) => void): Buffer {
  const writer = new Writer();
  fill(writer);
  return concatChunks(writer.finish());
}

test('header versions follow flexibility, except ApiVersions responses', () => {
  assert.equal(requestHeaderVersion(ApiKey.ApiVersions, 2), 1);
  assert.equal(requestHeaderVersion(ApiKey.ApiVersions, 3), 2);
  assert.equal(responseHeaderVersion(ApiKey.ApiVersions, 3), 0);
  assert.equal(responseHeaderVersion(ApiKey.ApiVersions, 4), 0);
  assert.equal(requestHeaderVersion(ApiKey.Produce, 7), 1);
  assert.equal(responseHeaderVersion(ApiKey.Produce, 7), 0);
  // Beyond our ranges, Kafka's "N+" flexible ranges still tell where a body starts.
  assert.equal(requestHeaderVersion(ApiKey.Produce, 9), 2);
  assert.equal(responseHeaderVersion(ApiKey.Metadata, 9), 1);
  assert.equal(requestHeaderVersion(ApiKey.SaslHandshake, 5), 1);
  assert.equal(requestHeaderVersion(9999, 0), 1); // unknown api key
});

test('request header v1: int16-length nullable client id, no tags', () => {
  const bytes = bytesOf((writer) => encodeRequestHeader(writer, ApiKey.Fetch, 11, 77, 'cli'));
  assert.equal(bytes.toString('hex'), '0001' + '000b' + '0000004d' + '0003636c69');
  assert.deepStrictEqual(decodeRequestHeader(bytes), {
    apiKey: 1,
    apiVersion: 11,
    correlationId: 77,
    clientId: 'cli',
    headerSizeBytes: bytes.length,
  });
  const nullClient = bytesOf((writer) => encodeRequestHeader(writer, ApiKey.Fetch, 11, 1, null));
  assert.equal(nullClient.subarray(8).toString('hex'), 'ffff');
  assert.equal(decodeRequestHeader(nullClient).clientId, null);
});

test('request header v2 keeps a non-compact client id and adds tags, unknown ones skipped', () => {
  const bytes = bytesOf((writer) => encodeRequestHeader(writer, ApiKey.ApiVersions, 3, 1, 'cli'));
  assert.equal(bytes.toString('hex'), '0012' + '0003' + '00000001' + '0003636c69' + '00');
  const withTags = Buffer.concat([bytes.subarray(0, bytes.length - 1), Buffer.from('0102026869', 'hex'), Buffer.from('ee', 'hex')]);
  const header = decodeRequestHeader(withTags);
  assert.equal(header.clientId, 'cli');
  assert.equal(header.headerSizeBytes, withTags.length - 1, 'the body starts after the skipped tag');
});

test('the header can be read at an offset inside a larger buffer', () => {
  const bytes = Buffer.concat([Buffer.from('ffffffff', 'hex'), bytesOf((writer) => encodeRequestHeader(writer, 3, 8, 9, 'x'))]);
  const header = decodeRequestHeader(bytes, 4);
  assert.equal(header.correlationId, 9);
  assert.equal(header.headerSizeBytes, bytes.length - 4);
});

test('response headers: v0 is the correlation id, v1 adds tags', () => {
  const v0 = bytesOf((writer) => encodeResponseHeader(writer, ApiKey.ApiVersions, 3, 5));
  assert.equal(v0.toString('hex'), '00000005');
  assert.deepStrictEqual(decodeResponseHeader(v0, ApiKey.ApiVersions, 3), { correlationId: 5, headerSizeBytes: 4 });
  const v1 = bytesOf((writer) => encodeResponseHeader(writer, ApiKey.Metadata, 9, 5));
  assert.equal(v1.toString('hex'), '0000000500');
  assert.deepStrictEqual(decodeResponseHeader(v1, ApiKey.Metadata, 9), { correlationId: 5, headerSizeBytes: 5 });
});

test('truncated headers throw ProtocolDecodeError', () => {
  const bytes = bytesOf((writer) => encodeRequestHeader(writer, ApiKey.ApiVersions, 3, 1, 'client'));
  for (let length = 0; length < bytes.length; length++) {
    assert.throws(() => decodeRequestHeader(bytes.subarray(0, length)), ProtocolDecodeError);
  }
});
