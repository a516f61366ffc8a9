/**
 * Which served API versions each library can encode and decode, as found in its modules, and
 * the table of gaps we expect. Every served version outside the gaps is cross-checked.
 */
import type { ApiSchema } from '../../../src/protocol/schema/types.js';
import { versionsOf } from '../codec/sample-values.js';
import { kafkajsRequestEncoder, kafkajsResponseDecoder, loadPlatformatic, platformaticApi } from './libraries.js';

export const kafkajsLabel = 'kafkajs 2.2.4';
export const platformaticLabel = '@platformatic/kafka 2.12.1';

/**
 * Served versions kafkajs 2.2.4 has no request encoder or response decoder for. Its newest
 * versions are older than ours here; it has no OffsetDelete or OffsetForLeaderEpoch at all.
 */
export const kafkajsLacks: Readonly<Record<string, readonly number[]>> = {
  Metadata: [7, 8],
  OffsetCommit: [6, 7],
  OffsetFetch: [5],
  DescribeGroups: [3, 4],
  ApiVersions: [3],
  CreateTopics: [4],
  DeleteTopics: [2, 3],
  InitProducerId: [2, 3, 4],
  TxnOffsetCommit: [2],
  OffsetDelete: [0],
  OffsetForLeaderEpoch: [0, 1, 2, 3, 4],
};

/** Served versions @platformatic/kafka 2.12.1 lacks: none, it covers every version we serve. */
export const platformaticLacks: Readonly<Record<string, readonly number[]>> = {};

/** Served versions for which kafkajs has both a request encoder and a response decoder. */
export function kafkajsVersions(schema: ApiSchema): number[] {
  return versionsOf(schema.request).filter(
    (version) =>
      kafkajsResponseDecoder(schema.name, version) !== undefined && kafkajsRequestEncoder(schema.name, version) !== undefined,
  );
}

/** Served versions for which @platformatic/kafka has an API module. */
export async function platformaticVersions(schema: ApiSchema): Promise<number[]> {
  const library = await loadPlatformatic();
  return versionsOf(schema.request).filter((version) => platformaticApi(library, schema.name, version) !== undefined);
}

/** Served versions of `schema` missing from `available`. */
export function missingVersions(schema: ApiSchema, available: readonly number[]): number[] {
  return versionsOf(schema.request).filter((version) => !available.includes(version));
}
