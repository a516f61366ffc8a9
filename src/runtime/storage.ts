/**
 * Durable state, injected like Clock and Random: a pure core's caller loads what was stored
 * and persists each batch of writes, and is told once they are durable (the acknowledgement
 * that may release votes, appends and acks). The Raft driver's is FileRaftStorage (the node's
 * `__cluster_metadata-0`); the simulation's is an in-memory disk that loses unsynced writes on
 * a crash. Partition logs go through the lower StorageFileOps seam (src/storage/file-ops.ts).
 */
export interface Storage<Loaded, Writes> {
  /** What was stored before (empty on a first start). */
  load(): Loaded;
  /** Writes `writes`; `done` once they are durable (or failed: then nothing may be acknowledged). */
  persist(writes: Writes, done: (error: Error | null) => void): void;
}
