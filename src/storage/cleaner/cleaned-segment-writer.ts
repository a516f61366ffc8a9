/**
 * Writes compaction output into new `.cleaned` segments, grouping consecutive input segments
 * into one output segment while it stays within segment.bytes (Kafka's groupSegmentsBySize,
 * decided as the output is written).
 *
 * Every output segment replaces a run of whole input segments, and recovery must be able to
 * tell from the files alone which inputs a committed output replaces: it replaces exactly the
 * input segments whose base offsets lie in [its base offset, its next offset). That holds
 * because an output segment is named by the base offset of its first input and an input that
 * keeps no record is never the last of its group: it joins the group of the next input that
 * keeps something.
 *
 * Inputs after the last output segment that keep nothing ("empty trailing inputs") belong to
 * no output segment: the swap deletes them after the replaced ones, oldest first. A crash
 * before that leaves them in place, which is consistent: they hold only expired tombstones
 * and records superseded by later records among themselves, and the cleaner checkpoint has
 * not moved past them, so the next pass maps them again.
 */
import { LogSegment, MAX_RELATIVE_OFFSET, type SegmentOptions } from '../segment.js';

export const CLEANED_SUFFIX = '.cleaned';
const WRITE_BUFFER_BYTES = 1024 * 1024;

/** One input segment: a closed segment of the log. */
export interface InputSegment {
  baseOffset: number;
  nextOffset: number;
  sizeBytes: number;
}

/** One output segment, written as `<baseOffset>.log.cleaned` (+ `.index.cleaned`, `.timeindex.cleaned`). */
export interface CleanedSegment {
  baseOffset: number;
  /** Last offset + 1 of its last batch (<= the base offset of the segment after its inputs). */
  nextOffset: number;
  sizeBytes: number;
  /** Base offsets of the input segments it replaces, in order. */
  replacedBaseOffsets: number[];
}

interface OpenGroup {
  segment: LogSegment;
  inputs: InputSegment[];
  /** Bytes written to the segment plus bytes still in the write buffer. */
  sizeBytes: number;
  nextOffset: number;
}

export class CleanedSegmentWriter {
  readonly finished: CleanedSegment[] = [];
  /** Inputs that kept nothing and wait for the next input that keeps something. */
  private pendingEmpty: InputSegment[] = [];
  private group: OpenGroup | null = null;
  private input: InputSegment | null = null;
  private inputPlaced = false;
  private forceNewGroup = false;
  // Where the current input began in the group, to take it back if it overflows the group.
  private sizeBeforeInput = 0;
  private nextOffsetBeforeInput = 0;
  private emptyJoinedWithInput: InputSegment[] = [];
  private buffer = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
  private bufferedBytes = 0;

  constructor(
    private readonly directory: string,
    private readonly segmentBytes: number,
    private readonly options: SegmentOptions,
    private readonly nowMs: number,
  ) {}

  /** After `finish`: the inputs after the last output segment that kept nothing. */
  get emptyTrailingInputs(): readonly InputSegment[] {
    return this.pendingEmpty;
  }

  /** Starts an input; `forceNewGroup` after `takeBackInput` puts it at the head of a new group. */
  beginInput(input: InputSegment, forceNewGroup = false): void {
    if (this.input !== null) throw new Error('beginInput while another input is open');
    this.input = input;
    this.inputPlaced = false;
    this.forceNewGroup = forceNewGroup;
  }

  /**
   * Appends one whole batch of the current input. Returns false, writing nothing, if the batch
   * would push a group that already holds earlier inputs past segment.bytes: the caller then
   * calls `takeBackInput` and writes the input again into a new group.
   */
  write(bytes: Buffer, start: number, sizeBytes: number, lastOffset: number): boolean {
    if (!this.inputPlaced) this.place();
    const group = this.group!;
    if (this.sizeBeforeInput > 0 && group.sizeBytes + sizeBytes > this.segmentBytes) return false;
    if (this.bufferedBytes + sizeBytes > this.buffer.length) {
      this.flushBuffer();
      if (sizeBytes > this.buffer.length) this.buffer = Buffer.allocUnsafe(sizeBytes);
    }
    bytes.copy(this.buffer, this.bufferedBytes, start, start + sizeBytes);
    this.bufferedBytes += sizeBytes;
    group.sizeBytes += sizeBytes;
    group.nextOffset = lastOffset + 1;
    return true;
  }

  endInput(): void {
    const input = this.input;
    if (input === null) throw new Error('endInput without an input');
    if (!this.inputPlaced) this.pendingEmpty.push(input);
    this.input = null;
  }

  /** Removes what the current input wrote and closes its group without it (see `write`). */
  takeBackInput(): void {
    const group = this.group;
    const input = this.input;
    if (group === null || input === null || !this.inputPlaced || this.sizeBeforeInput === 0) throw new Error('nothing to take back');
    this.flushBuffer();
    group.segment.truncateToBatchBoundary(this.sizeBeforeInput, this.nextOffsetBeforeInput);
    group.sizeBytes = this.sizeBeforeInput;
    group.nextOffset = this.nextOffsetBeforeInput;
    group.inputs.length -= this.emptyJoinedWithInput.length + 1;
    this.pendingEmpty = this.emptyJoinedWithInput;
    this.emptyJoinedWithInput = [];
    this.closeGroup();
    this.input = null;
  }

  /** Closes the last group; every finished segment is then durable. */
  finish(): void {
    if (this.input !== null) throw new Error('finish with an open input');
    this.closeGroup();
  }

  /** Closes and removes the files of an open group (the job failed). */
  abandon(): void {
    if (this.group !== null) this.group.segment.delete();
    this.group = null;
  }

  /** Puts the current input in the open group or a new one, with the empty inputs before it. */
  private place(): void {
    const input = this.input!;
    const group = this.group;
    const fits =
      group !== null &&
      !this.forceNewGroup &&
      group.sizeBytes + input.sizeBytes <= this.segmentBytes &&
      input.nextOffset - 1 - group.segment.baseOffset <= MAX_RELATIVE_OFFSET &&
      !group.segment.isIndexFull;
    if (!fits) this.openGroup(this.pendingEmpty[0]?.baseOffset ?? input.baseOffset, input);
    const target = this.group!;
    this.flushBuffer();
    this.sizeBeforeInput = target.sizeBytes;
    this.nextOffsetBeforeInput = target.nextOffset;
    this.emptyJoinedWithInput = this.pendingEmpty;
    target.inputs.push(...this.pendingEmpty, input);
    this.pendingEmpty = [];
    this.inputPlaced = true;
  }

  private openGroup(baseOffset: number, input: InputSegment): void {
    this.closeGroup();
    if (input.nextOffset - 1 - baseOffset > MAX_RELATIVE_OFFSET) {
      throw new Error(`segments from offset ${baseOffset} to ${input.nextOffset - 1} span more offsets than one segment can index`);
    }
    const segment = LogSegment.createWithSuffix(this.directory, baseOffset, { ...this.options, preallocate: false }, CLEANED_SUFFIX);
    this.group = { segment, inputs: [], sizeBytes: 0, nextOffset: baseOffset };
  }

  private flushBuffer(): void {
    if (this.bufferedBytes === 0) return;
    this.group!.segment.append(this.buffer, 0, this.bufferedBytes, this.nowMs);
    this.bufferedBytes = 0;
  }

  private closeGroup(): void {
    const group = this.group;
    if (group === null) return;
    this.flushBuffer();
    const segment = group.segment;
    segment.flushSync();
    segment.syncIndexes();
    segment.close();
    if (segment.nextOffset !== group.nextOffset || segment.sizeBytes !== group.sizeBytes) {
      throw new Error(`cleaned segment ${segment.baseOffset} ends at ${segment.nextOffset}/${segment.sizeBytes} bytes, expected ${group.nextOffset}/${group.sizeBytes}`);
    }
    this.finished.push({
      baseOffset: segment.baseOffset,
      nextOffset: segment.nextOffset,
      sizeBytes: segment.sizeBytes,
      replacedBaseOffsets: group.inputs.map((input) => input.baseOffset),
    });
    this.group = null;
  }
}
