/**
 * The broker's producer id managers, one per node listener, with their blocks from the
 * controller and one timer that ticks them all (the I/O edge of ProducerIdManager).
 */
import type { Controller } from '../controller/controller.js';
import { ErrorCode, errorName } from '../protocol/errors.js';
import { systemClock } from '../runtime/clock.js';
import { Limits } from '../runtime/limits.js';
import type { Logger } from '../runtime/logger.js';
import { ProducerIdManager, type ProducerIdBlockAnswer } from './producer-id-manager.js';

export class ProducerIdManagers {
  private readonly managers: ProducerIdManager[];
  private readonly timer: NodeJS.Timeout;

  constructor(nodeIds: readonly number[], controller: Controller, logger: Logger) {
    const options = {
      prefetchFraction: Limits.producerIdPrefetchFraction,
      blockWaitMs: Limits.producerIdBlockWaitMs,
      maxWaiters: Limits.maxProducerIdWaitersPerNode,
      retryBackoffMs: Limits.producerIdRetryBackoffMs,
    };
    this.managers = nodeIds.map((nodeId) => {
      const requestBlock = async (): Promise<ProducerIdBlockAnswer> => {
        const result = await controller.allocateProducerIds(nodeId, Limits.producerIdBlockSize);
        const block = result.errorCode === ErrorCode.NONE ? { firstProducerId: result.firstProducerId, size: result.size } : null;
        if (block !== null) logger.debug('producer id block allocated', { node: nodeId, firstProducerId: block.firstProducerId, size: block.size });
        return { errorCode: result.errorCode, errorMessage: result.errorMessage, block };
      };
      const onFailed = (errorCode: number, message: string) => logger.info('producer id block allocation failed; retrying', { node: nodeId, error: errorName(errorCode), detail: message });
      return new ProducerIdManager(nodeId, requestBlock, systemClock, options, onFailed);
    });
    this.timer = setInterval(() => {
      for (const manager of this.managers) manager.tick();
    }, Limits.producerIdTickIntervalMs);
    this.timer.unref();
  }

  forNode(nodeId: number): ProducerIdManager {
    const manager = this.managers[nodeId];
    if (manager === undefined) throw new Error(`no producer id manager for node ${nodeId}`);
    return manager;
  }

  close(): void {
    clearInterval(this.timer);
    for (const manager of this.managers) manager.close();
  }
}
