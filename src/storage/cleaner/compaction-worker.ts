/**
 * Piscina entry point: runs one compaction job in the pool's worker thread (see
 * compaction-job.ts). The job is synchronous file I/O and CPU, kept off the node's thread.
 */
import { runCompactionJob, type CompactionJobInput, type CompactionJobResult } from './compaction-job.js';

export default function compact(input: CompactionJobInput): CompactionJobResult {
  return runCompactionJob(input);
}
