/**
 * Sending messages, injected like Clock and Random: a pure core hands its messages to a
 * Transport and never touches a socket, a port or a ring itself, so the deterministic
 * simulation can drop, delay, duplicate and reorder them. The Raft driver's is the worker's
 * MessagePort through the front thread (which is where network partitions are injected); the
 * replica fetchers' is the node-to-node rings (NodeLinks).
 */
export interface Transport<Message> {
  send(message: Message): void;
}
