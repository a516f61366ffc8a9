/**
 * InitProducerId for idempotent producers (a null transactional id): as Kafka's
 * TransactionCoordinator, every request gets a new producer id with epoch 0, from the block
 * of the node whose listener took it; a v3+ request's current id and epoch (KIP-360; platformatic
 * sends 0 / 0) do not matter then, Kafka only refuses one given without the other. There is no
 * transaction coordinator yet: a transactional id gets UNSUPPORTED_VERSION, which no client
 * retries (Kafka's own answer to transaction APIs on a broker that lacks them).
 */
import type { RequestBody } from '../../protocol/codec/index.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { ApiKey } from '../../protocol/schema/index.js';
import type { RequestContext } from '../services.js';

type InitProducerIdRequest = RequestBody<typeof ApiKey.InitProducerId>;

const noProducerId = -1n;
const noProducerEpoch = -1;

function refusal(errorCode: number): unknown {
  return { throttleTimeMs: 0, errorCode, producerId: noProducerId, producerEpoch: noProducerEpoch };
}

export async function handleInitProducerId(context: RequestContext, request: InitProducerIdRequest): Promise<unknown> {
  const { services } = context;
  if (request.transactionalId !== null) {
    // Kafka refuses an empty transactional id as it refuses a malformed request.
    if (request.transactionalId === '') return refusal(ErrorCode.INVALID_REQUEST);
    services.logger.warn('InitProducerId with a transactional id refused: transactions are not supported yet', { transactionalId: request.transactionalId, clientId: context.header.clientId ?? '' });
    return refusal(ErrorCode.UNSUPPORTED_VERSION);
  }
  if ((request.producerId === noProducerId) !== (request.producerEpoch === noProducerEpoch)) return refusal(ErrorCode.INVALID_REQUEST);
  const answer = await services.producerIdManager(context.nodeId).generateProducerId();
  if (answer.errorCode !== ErrorCode.NONE) return refusal(answer.errorCode);
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: BigInt(answer.producerId), producerEpoch: 0 };
}
