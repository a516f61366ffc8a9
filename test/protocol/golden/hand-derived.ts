/**
 * Frames written by hand from the protocol spec (Kafka's message JSON and the header rules),
 * each including its 4-byte size prefix. Comments name every field.
 */

/** Hex with spaces and `//` comments. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\/\/[^\n]*/g, '').replace(/\s+/g, ''), 'hex');
}

/** ApiVersions v0 request: header v1 and an empty body. */
export const apiVersionsV0Request = hex(`
  00000013                  // size: 19 bytes follow
  0012                      // request_api_key 18
  0000                      // request_api_version 0
  00000001                  // correlation_id 1
  0009 6d696e696b61666b61   // client_id "minikafka" (int16 length)
                            // body: no fields
`);

/**
 * ApiVersions v3 response. The body is flexible (compact array, tags) but the header is v0:
 * just the correlation id, no tagged-field section.
 */
export const apiVersionsV3Response = hex(`
  00000027                  // size: 39 bytes follow
  00000007                  // correlation_id 7 (response header v0, no tags)
  0000                      // error_code 0
  03                        // api_keys: compact array, 2 elements + 1
  0000 0003 0007 00         //   Produce 3-7, no tags
  0012 0000 0003 00         //   ApiVersions 0-3, no tags
  00000000                  // throttle_time_ms 0
  02                        // 2 tagged fields
  01 08 0000000000000001    //   tag 1 finalized_features_epoch = 1 (8 bytes)
  03 01 01                  //   tag 3 zk_migration_ready = true (1 byte)
`);

/** Metadata v0 request for topic "golden": header v1, int32 array count, int16 string. */
export const metadataV0Request = hex(`
  0000001f                  // size: 31 bytes follow
  0003                      // request_api_key 3
  0000                      // request_api_version 0
  00000002                  // correlation_id 2
  0009 6d696e696b61666b61   // client_id "minikafka"
  00000001                  // topics: 1 element (v0: an empty array would mean all topics)
  0006 676f6c64656e         //   name "golden"
`);

/**
 * InitProducerId v4 response: flexible, so response header v1 (correlation id plus a tagged-field
 * section; unlike ApiVersions), then the fixed fields and the body's tags.
 */
export const initProducerIdV4Response = hex(`
  00000016                  // size: 22 bytes follow
  00000004                  // correlation_id 4
  00                        // header tagged fields: none
  00000000                  // throttle_time_ms 0
  0000                      // error_code 0
  0000000000000fa0          // producer_id 4000
  0000                      // producer_epoch 0
  00                        // body tagged fields: none
`);

/** InitProducerId v1 response: not flexible, response header v0. */
export const initProducerIdV1Response = hex(`
  00000014                  // size: 20 bytes follow
  00000004                  // correlation_id 4
  00000000                  // throttle_time_ms 0
  000e                      // error_code 14 COORDINATOR_LOAD_IN_PROGRESS
  ffffffffffffffff          // producer_id -1
  ffff                      // producer_epoch -1
`);
