/** CreateTopics, DeleteTopics and CreatePartitions: validated and applied by the controller. */
import type { RequestBody } from '../../protocol/codec/index.js';
import type { ApiKey } from '../../protocol/schema/index.js';
import type { RequestContext } from '../services.js';

export async function handleCreateTopics(context: RequestContext, request: RequestBody<typeof ApiKey.CreateTopics>): Promise<unknown> {
  const results = await context.services.controller.createTopics(
    request.topics.map((topic) => ({
      name: topic.name,
      numPartitions: topic.numPartitions,
      replicationFactor: topic.replicationFactor,
      assignments: topic.assignments,
      configs: topic.configs,
    })),
    request.validateOnly,
  );
  return {
    throttleTimeMs: 0,
    topics: results.map((result) => ({ name: result.name, errorCode: result.errorCode, errorMessage: result.errorMessage })),
  };
}

export async function handleDeleteTopics(context: RequestContext, request: RequestBody<typeof ApiKey.DeleteTopics>): Promise<unknown> {
  const results = await context.services.controller.deleteTopics(request.topicNames);
  return { throttleTimeMs: 0, responses: results.map((result) => ({ name: result.name, errorCode: result.errorCode })) };
}

export async function handleCreatePartitions(context: RequestContext, request: RequestBody<typeof ApiKey.CreatePartitions>): Promise<unknown> {
  const results = await context.services.controller.createPartitions(
    request.topics.map((topic) => ({
      name: topic.name,
      count: topic.count,
      assignments: topic.assignments === null ? null : topic.assignments.map((assignment) => assignment.brokerIds),
    })),
    request.validateOnly,
  );
  return { throttleTimeMs: 0, results };
}
