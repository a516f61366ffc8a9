/**
 * A MetadataWriter over a single-voter metadata log, for controller tests: a change is
 * committed once its batch is fsynced, then applied to the image and handed on.
 */
import type { MetadataChanges, MetadataWriter } from '../../src/controller/controller.js';
import type { MetadataImage } from '../../src/metadata/image.js';
import type { MetadataLog } from '../../src/metadata/metadata-log.js';

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
