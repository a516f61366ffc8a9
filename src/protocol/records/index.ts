export * from './layout.js';
export * from './crc32c.js';
export * from './varint.js';
export * from './int64.js';
export * from './batch.js';
export * from './records.js';
export * from './compression.js';
