/**
 * API version negotiation: for each API both sides implement, the highest version in the
 * intersection of our range (the schema's validVersions) and the broker's advertised range.
 */
import { parseVersionRange } from '../protocol/codec/version-range.js';
import { apiSchemas } from '../protocol/schema/index.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';

export interface AdvertisedVersionRange {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
}

/** The version we use per api key, and the broker's ranges for error messages. */
export class NegotiatedVersions {
  private readonly chosen: ReadonlyMap<number, number>;
  private readonly brokerRanges: ReadonlyMap<number, AdvertisedVersionRange>;

  constructor(chosen: ReadonlyMap<number, number>, brokerRanges: ReadonlyMap<number, AdvertisedVersionRange>) {
    this.chosen = chosen;
    this.brokerRanges = brokerRanges;
  }

  /** Our highest version of every API: used when no ApiVersions exchange took place. */
  static ourMaxima(): NegotiatedVersions {
    const chosen = new Map<number, number>();
    for (const schema of apiSchemas.values()) chosen.set(schema.apiKey, parseVersionRange(schema.request.validVersions).max);
    return new NegotiatedVersions(chosen, new Map());
  }

  static fromBroker(advertised: readonly AdvertisedVersionRange[]): NegotiatedVersions {
    const brokerRanges = new Map<number, AdvertisedVersionRange>();
    for (const range of advertised) brokerRanges.set(range.apiKey, range);
    const chosen = new Map<number, number>();
    for (const schema of apiSchemas.values()) {
      const broker = brokerRanges.get(schema.apiKey);
      if (broker === undefined) continue;
      const version = pickVersion(parseVersionRange(schema.request.validVersions), broker);
      if (version !== undefined) chosen.set(schema.apiKey, version);
    }
    return new NegotiatedVersions(chosen, brokerRanges);
  }

  has(apiKey: number): boolean {
    return this.chosen.has(apiKey);
  }

  /** The version to use; throws UNSUPPORTED_VERSION naming both ranges when there is none. */
  versionFor(apiKey: number): number {
    const version = this.chosen.get(apiKey);
    if (version !== undefined) return version;
    const schema = apiSchemas.get(apiKey);
    if (schema === undefined) throw new Error(`api key ${apiKey} has no schema in this client`);
    const broker = this.brokerRanges.get(apiKey);
    const brokerText = broker === undefined ? 'not at all' : `${broker.minVersion}-${broker.maxVersion}`;
    throw new KafkaError(
      ErrorCode.UNSUPPORTED_VERSION,
      `${schema.name}: this client speaks versions ${schema.request.validVersions}, the broker ${brokerText}`,
    );
  }
}

/** min(our max, broker max), if that is still inside both ranges. */
export function pickVersion(
  ours: { readonly min: number; readonly max: number },
  broker: AdvertisedVersionRange,
): number | undefined {
  const version = Math.min(ours.max, broker.maxVersion);
  if (version < ours.min || version < broker.minVersion) return undefined;
  return version;
}
