/**
 * Opening a partition log (Kafka's LogLoader): lists the segment files (finishing an
 * interrupted compaction swap, removing leftovers), trusts the segments below the recovery
 * point (checking their indexes only), scans the rest batch by batch (CRC, offsets, torn
 * tail), drops what follows a cut or an overlap, and fsyncs what it verified.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { completeInterruptedSwaps, DELETED_SUFFIX, SWAP_SUFFIX } from './cleaner/segment-swap.js';
import { CLEANED_SUFFIX } from './cleaner/cleaned-segment-writer.js';
import { INDEX_SUFFIX, LOG_SUFFIX, LogSegment, TIME_INDEX_SUFFIX, type SegmentOptions } from './segment.js';

export interface RecoverySummary {
  segmentsRecovered: number;
  segmentsWithRebuiltIndexes: number;
  truncatedBytes: number;
  segmentsDeleted: number;
}

export interface LogLoadOptions {
  readonly directory: string;
  readonly segmentOptions: SegmentOptions;
  /** The largest batch a scan accepts as plausible. */
  readonly maxBatchSizeBytes: number;
  /** From the recovery-point checkpoint: segments wholly below it are not scanned. */
  readonly recoveryPoint: number;
  /** From the log-start-offset checkpoint. */
  readonly logStartOffset: number;
  /** The data dir was shut down cleanly: trust every segment, check indexes only. */
  readonly cleanShutdown: boolean;
  readonly log: (message: string) => void;
}

export interface LoadedLog {
  /** At least one; the last is the active segment. */
  readonly segments: LogSegment[];
  readonly logStartOffset: number;
  /** Everything loaded is fsynced: the log end offset. */
  readonly recoveryPoint: number;
  readonly recovery: RecoverySummary;
}

export class LogLoader {
  private readonly segments: LogSegment[] = [];
  private readonly recovery: RecoverySummary = { segmentsRecovered: 0, segmentsWithRebuiltIndexes: 0, truncatedBytes: 0, segmentsDeleted: 0 };

  private constructor(private readonly options: LogLoadOptions) {}

  static load(options: LogLoadOptions): LoadedLog {
    return new LogLoader(options).load();
  }

  private load(): LoadedLog {
    const { directory, segmentOptions, maxBatchSizeBytes, recoveryPoint, cleanShutdown } = this.options;
    const baseOffsets = this.listSegmentFiles();
    for (let index = 0; index < baseOffsets.length; index++) {
      const segment = LogSegment.open(directory, baseOffsets[index]!, segmentOptions);
      const nextBase = baseOffsets[index + 1];
      const belowRecoveryPoint = cleanShutdown || (nextBase !== undefined && nextBase <= recoveryPoint);
      const previous = this.segments[this.segments.length - 1];
      if (previous !== undefined && segment.baseOffset < previous.nextOffset) {
        this.options.log(`log ${directory}: segment ${segment.baseOffset} overlaps its predecessor; deleting it and later segments`);
        this.deleteSegmentFiles(segment, baseOffsets.slice(index + 1));
        break;
      }
      this.segments.push(segment);
      if (belowRecoveryPoint) {
        if (segment.loadIndexes(maxBatchSizeBytes)) this.recovery.segmentsWithRebuiltIndexes++;
        continue;
      }
      if (this.recoverSegment(segment, maxBatchSizeBytes)) {
        this.deleteSegmentFiles(null, baseOffsets.slice(index + 1));
        break;
      }
    }
    return this.finish();
  }

  /** Full scan of one segment; returns true if its tail was cut (later segments must go). */
  private recoverSegment(segment: LogSegment, maxBatchSizeBytes: number): boolean {
    const result = segment.recover(maxBatchSizeBytes);
    this.recovery.segmentsRecovered++;
    if (result.truncatedBytes === 0) return false;
    this.recovery.truncatedBytes += result.truncatedBytes;
    this.options.log(`log ${this.options.directory}: truncated ${result.truncatedBytes} bytes of segment ${segment.baseOffset}: ${result.reason}`);
    return true;
  }

  private deleteSegmentFiles(opened: LogSegment | null, laterBaseOffsets: readonly number[]): void {
    if (opened !== null) {
      opened.delete();
      this.recovery.segmentsDeleted++;
    }
    for (const baseOffset of laterBaseOffsets) {
      LogSegment.open(this.options.directory, baseOffset, this.options.segmentOptions).delete();
      this.recovery.segmentsDeleted++;
    }
  }

  private finish(): LoadedLog {
    const segments = this.segments;
    if (segments.length === 0) segments.push(LogSegment.create(this.options.directory, this.options.logStartOffset, this.options.segmentOptions));
    // Recovered data is verified but maybe not on disk yet: make it durable before serving.
    for (const segment of segments) {
      if (segment.hasUnflushedBytes) segment.flushSync();
    }
    const logEndOffset = segments[segments.length - 1]!.nextOffset;
    const logStartOffset = Math.min(Math.max(this.options.logStartOffset, segments[0]!.baseOffset), logEndOffset);
    return { segments, logStartOffset, recoveryPoint: logEndOffset, recovery: this.recovery };
  }

  /** Base offsets of the `.log` files, sorted; removes leftovers of interrupted operations. */
  private listSegmentFiles(): number[] {
    const directory = this.options.directory;
    let names = readdirSync(directory);
    // Leftovers of an interrupted compaction swap are rare: read the directory again only then.
    if (names.some((name) => name.endsWith(SWAP_SUFFIX) || name.endsWith(CLEANED_SUFFIX) || name.endsWith(DELETED_SUFFIX))) {
      completeInterruptedSwaps(directory, this.options.log);
      names = readdirSync(directory);
    }
    const baseOffsets: number[] = [];
    const logs = new Set(names.filter((name) => name.endsWith(LOG_SUFFIX)).map((name) => name.slice(0, -LOG_SUFFIX.length)));
    for (const name of names) {
      if (name.endsWith(LOG_SUFFIX)) {
        const baseOffset = Number(name.slice(0, -LOG_SUFFIX.length));
        if (Number.isSafeInteger(baseOffset) && baseOffset >= 0) baseOffsets.push(baseOffset);
      } else if (name.endsWith('.tmp') || isOrphanIndex(name, logs)) {
        rmSync(join(directory, name), { force: true });
      }
    }
    return baseOffsets.sort((a, b) => a - b);
  }
}

function isOrphanIndex(name: string, logs: ReadonlySet<string>): boolean {
  for (const suffix of [INDEX_SUFFIX, TIME_INDEX_SUFFIX]) {
    if (name.endsWith(suffix)) return !logs.has(name.slice(0, -suffix.length));
  }
  return false;
}
