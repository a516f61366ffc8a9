import type { FieldSchema } from '../../../src/protocol/schema/types.js';

/** Every field path of a message in any version ('topics.partitions.partitionIndex'). */
export function schemaPaths(fields: readonly FieldSchema[], prefix = ''): string[] {
  return fields.flatMap((field) => {
    const path = prefix === '' ? field.name : `${prefix}.${field.name}`;
    return field.fields === undefined ? [path] : [path, ...schemaPaths(field.fields, path)];
  });
}
