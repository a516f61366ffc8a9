import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageSchema } from '../../../src/protocol/schema/types.js';
import { apiVersionsSchema } from '../../../src/protocol/schema/index.js';
import {
  ProtocolDecodeError,
  concatChunks,
  decodeMessage,
  encodeMessage,
} from '../../../src/protocol/codec/index.js';

/** A made-up message exercising every flexible-encoding feature; flexible from v1. */
const testSchema = {
  apiKey: 9999,
  type: 'request',
  name: 'TestMessage',
  validVersions: '0-1',
  flexibleVersions: '1+',
  fields: [
    { name: 'name', type: 'string', versions: '0+' },
    { name: 'note', type: 'string', versions: '0+', nullableVersions: '0+' },
    { name: 'ids', type: '[]int32', versions: '0+' },
    {
      name: 'items',
      type: '[]',
      versions: '0+',
      nullableVersions: '1+',
      fields: [{ name: 'key', type: 'string', versions: '0+' }],
    },
    { name: 'payload', type: 'bytes', versions: '0+' },
    { name: 'epoch', type: 'int64', versions: '1+', taggedVersions: '1+', tag: 5, default: -1n },
    {
      name: 'label',
      type: 'string',
      versions: '1+',
      nullableVersions: '1+',
      taggedVersions: '1+',
      tag: 0,
      default: null,
    },
    {
      name: 'leader',
      type: 'struct',
      versions: '1+',
      taggedVersions: '1+',
      tag: 7,
      fields: [
        { name: 'leaderId', type: 'int32', versions: '1+', default: -1 },
        { name: 'leaderEpoch', type: 'int32', versions: '1+', default: -1 },
      ],
    },
  ],
} as const satisfies MessageSchema;

const value = {
  name: 'ab',
  note: null,
  ids: [1, 2],
  items: [{ key: 'k' }],
  payload: Buffer.from([0xff]),
  epoch: 3n,
  label: 'x',
  leader: { leaderId: 2, leaderEpoch: -1 },
};

/** Hex with spaces and `//` comments, as written by hand from the spec. */
const hex = (text: string): Buffer => Buffer.from(text.replace(/\/\/[^\n]*/g, '').replace(/\s+/g, ''), 'hex');

const flexibleBytes = hex(`
  03 6162                 // name: compact string, length+1 = 3
  00                      // note: null compact string
  03 00000001 00000002    // ids: compact array, count+1 = 3
  02 02 6b 00             // items: 1 element { key: "k", no tags }
  02 ff                   // payload: compact bytes
  03                      // 3 tagged fields, in tag order:
  00 02 0278              // tag 0 (label), 2 bytes: compact string "x"
  05 08 0000000000000003  // tag 5 (epoch), 8 bytes
  07 09 00000002 ffffffff 00   // tag 7 (leader), 9 bytes: a struct with its own tag section
`);

test('flexible versions use compact lengths and a tagged-field section', () => {
  const encoded = concatChunks(encodeMessage(testSchema, 1, value));
  assert.equal(encoded.toString('hex'), flexibleBytes.toString('hex'));
  assert.deepStrictEqual(decodeMessage(testSchema, 1, encoded), value);
});

test('non-flexible versions use int16/int32 lengths and no tags', () => {
  const encoded = concatChunks(encodeMessage(testSchema, 0, { ...value, note: 'n' }));
  assert.equal(
    encoded.toString('hex'),
    '00026162' + '00016e' + '00000002' + '00000001' + '00000002' + '00000001' + '00016b' + '00000001ff',
  );
});

test('tagged fields equal to their default are left out', () => {
  const encoded = concatChunks(
    encodeMessage(testSchema, 1, { ...value, epoch: -1n, label: null, leader: { leaderId: -1 } }),
  );
  assert.equal(encoded[encoded.length - 1], 0, 'empty tagged-field section');
  const decoded = decodeMessage(testSchema, 1, encoded);
  assert.equal(decoded['epoch'], -1n);
  assert.equal(decoded['label'], null);
  assert.deepStrictEqual(decoded['leader'], { leaderId: -1, leaderEpoch: -1 });
});

test('unknown tags are skipped on decode, including multi-byte tags and sizes', () => {
  const prefix = flexibleBytes.subarray(0, flexibleBytes.indexOf(hex('03 00 02 0278')));
  const unknownLong = Buffer.concat([hex('ac02 8001'), Buffer.alloc(128, 0xaa)]); // tag 300, 128 bytes
  const bytes = Buffer.concat([
    prefix,
    hex('05'),
    hex('00 02 0278'),
    hex('03 02 7a7a'), // tag 3: unknown, 2 bytes
    hex('05 08 0000000000000003'),
    hex('07 09 00000002 ffffffff 00'),
    unknownLong,
  ]);
  assert.deepStrictEqual(decodeMessage(testSchema, 1, bytes), value);
});

test('a known tagged field whose size disagrees with its content is rejected', () => {
  const bytes = Buffer.from(flexibleBytes);
  const epochSize = bytes.indexOf(hex('05 08 0000000000000003')) + 1;
  bytes[epochSize] = 9;
  assert.throws(() => decodeMessage(testSchema, 1, bytes), ProtocolDecodeError);
});

test('compact lengths of 127+ bytes take a multi-byte varint', () => {
  const name = 'é'.repeat(100); // 200 UTF-8 bytes
  const encoded = concatChunks(encodeMessage(testSchema, 1, { name }));
  assert.equal(encoded.subarray(0, 2).toString('hex'), 'c901'); // 201 = 0x49 | 0x80, 0x01
  assert.equal(decodeMessage(testSchema, 1, encoded)['name'], name);
});

test('compact nullable array: 0 is null, 1 is empty', () => {
  const nullItems = concatChunks(encodeMessage(testSchema, 1, { items: null }));
  const emptyItems = concatChunks(encodeMessage(testSchema, 1, { items: [] }));
  // name '' (01), note null (00), ids [] (01), then items
  assert.equal(nullItems[3], 0);
  assert.equal(emptyItems[3], 1);
  assert.equal(decodeMessage(testSchema, 1, nullItems)['items'], null);
  assert.deepStrictEqual(decodeMessage(testSchema, 1, emptyItems)['items'], []);
});

test('ApiVersions v3 response carries its tagged feature fields', () => {
  const schema = apiVersionsSchema.response;
  const response = {
    errorCode: 0,
    apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }],
    throttleTimeMs: 0,
    supportedFeatures: [{ name: 'metadata.version', minVersion: 1, maxVersion: 20 }],
    finalizedFeaturesEpoch: 7n,
    finalizedFeatures: [{ name: 'metadata.version', maxVersionLevel: 20, minVersionLevel: 20 }],
    zkMigrationReady: true,
  };
  const encoded = concatChunks(encodeMessage(schema, 3, response));
  assert.deepStrictEqual(decodeMessage(schema, 3, encoded), response);
  const plain = concatChunks(encodeMessage(schema, 3, { apiKeys: response.apiKeys }));
  // 0000 | 02 0012 0000 0003 00 | 00000000 | 00
  assert.equal(plain.toString('hex'), '00000200120000000300' + '00000000' + '00');
});
