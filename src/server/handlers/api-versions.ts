import { ErrorCode } from '../../protocol/errors.js';
import type { RequestContext } from '../services.js';

/** ApiVersions: every API and version range we serve. Unsupported versions are answered in Connection. */
export function handleApiVersions(context: RequestContext): unknown {
  return {
    errorCode: ErrorCode.NONE,
    apiKeys: context.services.apiVersions,
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: -1n,
    finalizedFeatures: [],
    zkMigrationReady: false,
  };
}
