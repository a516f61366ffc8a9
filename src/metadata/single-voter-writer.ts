/**
 * The MetadataWriter of a single-voter metadata log (the controller on the front-end thread,
 * until the Raft quorum replaces it): a change is committed once its batch is fsynced in the
 * metadata log; then it is applied to the image and handed to the nodes.
 */
import type { MetadataChanges, MetadataWriter } from '../controller/controller.js';
import type { MetadataImage } from './image.js';
import type { MetadataLog } from './metadata-log.js';

export class SingleVoterMetadataWriter implements MetadataWriter {
  constructor(
    private readonly log: MetadataLog,
    private readonly image: MetadataImage,
    /** Tells the nodes about committed changes; the operation is answered once it resolves. */
    private readonly onCommitted: (changes: MetadataChanges) => Promise<void>,
  ) {}

  async commit(changes: MetadataChanges): Promise<void> {
    await this.log.append(changes.records);
    for (const record of changes.records) this.image.apply(record);
    await this.onCommitted(changes);
  }
}
