/**
 * The Kafka protocol codec: one generic encoder/decoder driven by the schemas in
 * `../schema/`. See `compile.ts` for the code generation, `frame.ts` for whole frames.
 */
export { ProtocolDecodeError } from './protocol-decode-error.js';
export { Reader } from './reader.js';
export {
  Writer,
  SlabPool,
  slabSizeBytes,
  referenceThresholdBytes,
  type EncodedMessage,
} from './writer.js';
export { compile, zeroUuid, type CompiledMessage } from './compile.js';
export { parseVersionRange, versionInRange, maxApiVersion, type ParsedVersionRange } from './version-range.js';
export {
  isSupported,
  supportedVersionRanges,
  encodeMessage,
  decodeMessage,
  decodeRequestBody,
  encodeResponse,
  encodeRequest,
  decodeResponse,
  concatChunks,
  type ApiVersionRange,
  type DecodedResponse,
  type RequestBody,
  type ResponseBody,
  type RequestInput,
  type ResponseInput,
} from './frame.js';
export {
  decodeRequestHeader,
  decodeRequestHeader as parseRequestHeader,
  encodeRequestHeader,
  encodeResponseHeader,
  decodeResponseHeader,
  requestHeaderVersion,
  responseHeaderVersion,
  isFlexibleVersion,
  type RequestHeader,
  type ResponseHeader,
} from '../header.js';
