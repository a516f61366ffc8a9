/**
 * `minikafka groups list|describe|reset-offsets|delete`: consumer group administration over the
 * Kafka protocol, in the spirit of Kafka's kafka-consumer-groups.sh (same offsets table, and
 * reset-offsets is a dry run unless told --execute).
 */
import { parseArgs } from 'node:util';
import {
  ConsumerGroupState,
  GroupsAdmin,
  type GroupDescription,
  type OffsetResetEntry,
  type OffsetResetTarget,
  type TopicSelection,
} from '../../client/groups-admin.js';
import { ErrorCode, errorName } from '../../protocol/errors.js';
import { attachOptionValues, UsageError, withClusterClient, type CommandIo } from './common.js';

export type { CommandIo } from './common.js';

const defaultBootstrapServer = '127.0.0.1:9092';
const missingValue = '-';
const columnGapSpaces = 2;

const help = `usage: minikafka groups <action> [options]

actions:
  list                     print group ids, one per line
  describe <group>         print the group's state and members with their assignments, then
                           per partition: committed offset, log end offset, lag and owner
  reset-offsets <group>    move the group's committed offsets (the group must have no active
                           members); prints the plan and changes nothing unless --execute
  delete <group>...        delete groups without active members, with their offsets

options:
  --bootstrap-server host:port[,host:port]  brokers to bootstrap from (default ${defaultBootstrapServer})
  --topic T[:P,P...]                        reset-offsets: a topic, or only some of its partitions;
                                            repeat for more
  --all-topics                              reset-offsets: every topic the group has offsets for
  --to-earliest                             reset-offsets: to the log start offset
  --to-latest                               reset-offsets: to the log end offset
  --to-offset N                             reset-offsets: to offset N (kept within the log)
  --to-datetime YYYY-MM-DDTHH:mm:SS.sss[Z|+HH:mm]
                                            reset-offsets: to the first record at or after this
                                            time (local time without a zone)
  --to-timestamp MS                         reset-offsets: the same, in ms since the epoch
  --execute                                 reset-offsets: commit the new offsets
  --dry-run                                 reset-offsets: only print the plan (the default)
  -h, --help                                print this text
`;

const options = {
  'bootstrap-server': { type: 'string', default: defaultBootstrapServer },
  topic: { type: 'string', multiple: true },
  'all-topics': { type: 'boolean', default: false },
  'to-earliest': { type: 'boolean', default: false },
  'to-latest': { type: 'boolean', default: false },
  'to-offset': { type: 'string' },
  'to-datetime': { type: 'string' },
  'to-timestamp': { type: 'string' },
  execute: { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

const resetOptionNames = ['topic', 'all-topics', 'to-earliest', 'to-latest', 'to-offset', 'to-datetime', 'to-timestamp', 'execute', 'dry-run'] as const;


/** Runs `minikafka groups`; `argv` holds the arguments after "groups". Returns the exit code. */
export async function run(argv: string[], io: CommandIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: attachOptionValues(argv, options), options, allowPositionals: true, strict: true }));
  } catch (error) {
    io.stderr.write(`minikafka groups: ${(error as Error).message}\n\n${help}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(help);
    return 0;
  }
  return withClusterClient('groups', values['bootstrap-server'], io.stderr, (client) => runAction(new GroupsAdmin(client), positionals, values, io));
}

async function runAction(admin: GroupsAdmin, positionals: readonly string[], values: Values, io: CommandIo): Promise<number> {
  const [action, ...groups] = positionals;
  if (action !== 'reset-offsets') {
    const misplaced = resetOptionNames.find((name) => values[name] !== undefined && values[name] !== false);
    if (misplaced !== undefined) throw new UsageError(`--${misplaced} belongs to reset-offsets`);
  }
  switch (action) {
    case 'list':
      if (groups.length > 0) throw new UsageError('list takes no group id');
      await list(admin, io);
      return 0;
    case 'describe':
      await describe(admin, onlyGroup(action, groups), io);
      return 0;
    case 'reset-offsets':
      await resetOffsets(admin, onlyGroup(action, groups), values, io);
      return 0;
    case 'delete':
      if (groups.length === 0 || groups.includes('')) throw new UsageError('delete needs at least one group id');
      return deleteGroups(admin, groups, io);
    case undefined:
      throw new UsageError('an action is required: list, describe, reset-offsets or delete (see --help)');
    default:
      throw new UsageError(`unknown action "${action}" (expected list, describe, reset-offsets or delete)`);
  }
}

function onlyGroup(action: string, groups: readonly string[]): string {
  if (groups.length === 0 || groups[0] === '') throw new UsageError(`${action} needs a group id`);
  if (groups.length > 1) throw new UsageError(`${action} takes one group id, got: ${groups.join(' ')}`);
  return groups[0]!;
}

async function list(admin: GroupsAdmin, io: CommandIo): Promise<void> {
  const groups = await admin.listGroups();
  io.stdout.write(groups.map((group) => `${group.groupId}\n`).join(''));
}

/** A summary line, the members and their assignments, then kafka-consumer-groups' offsets table. */
async function describe(admin: GroupsAdmin, groupId: string, io: CommandIo): Promise<void> {
  const group = await admin.describeGroup(groupId);
  if (group.state === ConsumerGroupState.Dead) throw new Error(`Consumer group '${groupId}' does not exist.`);
  const partitions = await admin.lag(groupId, group);
  const lines = [
    `Group: ${group.groupId}\tState: ${group.state}\tProtocolType: ${group.protocolType || missingValue}` +
      `\tProtocol: ${group.protocol || missingValue}\tCoordinator: ${group.coordinatorId}\tMembers: ${group.members.length}`,
    '',
  ];
  if (group.members.length === 0) lines.push(`Consumer group '${groupId}' has no active members.`, '');
  else lines.push(...formatTable(['CONSUMER-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS', 'ASSIGNMENT'], memberRows(group)), '');
  const rows = partitions.map((entry) => [
    entry.topic,
    String(entry.partition),
    entry.committedOffset === null ? missingValue : String(entry.committedOffset),
    entry.logEndOffset === null ? missingValue : String(entry.logEndOffset),
    entry.lag === null ? missingValue : String(entry.lag),
    entry.member?.memberId ?? missingValue,
    entry.member?.clientHost ?? missingValue,
    entry.member?.clientId ?? missingValue,
  ]);
  if (rows.length === 0) lines.push(`Consumer group '${groupId}' has no committed offsets and no assigned partitions.`);
  else lines.push(...formatTable(['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'], rows));
  io.stdout.write(lines.map((line) => `${line}\n`).join(''));
}

function memberRows(group: GroupDescription): string[][] {
  return group.members.map((member) => {
    const byTopic = new Map<string, number[]>();
    for (const assigned of member.assignment) {
      const partitions = byTopic.get(assigned.topic) ?? [];
      partitions.push(assigned.partition);
      byTopic.set(assigned.topic, partitions);
    }
    const assignment = [...byTopic].map(([topic, partitions]) => `${topic}:${partitions.join(',')}`).join(';');
    return [member.memberId, member.clientHost, member.clientId, String(member.assignment.length), assignment || missingValue];
  });
}

async function resetOffsets(admin: GroupsAdmin, groupId: string, values: Values, io: CommandIo): Promise<void> {
  const target = parseResetTarget(values);
  if (values.execute && values['dry-run']) throw new UsageError('--execute and --dry-run exclude each other');
  const topics = await selectedTopics(admin, groupId, values);
  const plan = await admin.resetOffsets(groupId, topics, target, { dryRun: !values.execute });
  io.stdout.write(formatPlan(groupId, plan));
  if (values.execute) io.stderr.write(`Committed new offsets for ${plan.length} partition${plan.length === 1 ? '' : 's'} of group '${groupId}'.\n`);
  else io.stderr.write('Dry run: no offsets were changed. Add --execute to commit them.\n');
}

async function selectedTopics(admin: GroupsAdmin, groupId: string, values: Values): Promise<TopicSelection[]> {
  const topics = values.topic ?? [];
  if (values['all-topics'] && topics.length > 0) throw new UsageError('--topic and --all-topics exclude each other');
  if (values['all-topics']) {
    const committed = await admin.committedOffsets(groupId);
    if (committed.length === 0) throw new Error(`group '${groupId}' has no committed offsets; name the topics with --topic`);
    return [...new Set(committed.map((entry) => entry.topic))].map((topic) => ({ topic }));
  }
  if (topics.length === 0) throw new UsageError('reset-offsets needs --topic T (repeatable) or --all-topics');
  return topics.map(parseTopicSelection);
}

/** "T" or "T:0,2" (Kafka topic names cannot contain ':'). */
function parseTopicSelection(text: string): TopicSelection {
  const separator = text.indexOf(':');
  const topic = separator < 0 ? text : text.slice(0, separator);
  if (topic === '') throw new UsageError(`--topic "${text}" names no topic`);
  if (separator < 0) return { topic };
  const partitions = text.slice(separator + 1).split(',').map((part) => parseNonNegative(`--topic ${text}`, part));
  return { topic, partitions };
}

function parseResetTarget(values: Values): OffsetResetTarget {
  const chosen: OffsetResetTarget[] = [];
  if (values['to-earliest']) chosen.push('earliest');
  if (values['to-latest']) chosen.push('latest');
  if (values['to-offset'] !== undefined) chosen.push({ offset: BigInt(parseNonNegative('--to-offset', values['to-offset'])) });
  if (values['to-datetime'] !== undefined) chosen.push({ timestampMs: parseDateTimeMs(values['to-datetime']) });
  if (values['to-timestamp'] !== undefined) chosen.push({ timestampMs: parseNonNegative('--to-timestamp', values['to-timestamp']) });
  if (chosen.length !== 1) {
    throw new UsageError('reset-offsets needs exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, --to-timestamp');
  }
  return chosen[0]!;
}

const dateTimePattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Kafka's --to-datetime: YYYY-MM-DDTHH:mm:SS.sss with an optional zone (Z, +HH, +HHmm, +HH:mm);
 * seconds and milliseconds may be left out. Without a zone the time is local, as in Kafka.
 */
export function parseDateTimeMs(text: string): number {
  const match = dateTimePattern.exec(text);
  if (match === null) throw new UsageError(`--to-datetime "${text}" is not YYYY-MM-DDTHH:mm[:SS[.sss]][Z|+HH:mm]`);
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((field) => Number(field ?? 0)) as [number, number, number, number, number, number];
  const millisecond = Number((match[7] ?? '0').padEnd(3, '0'));
  const zone = match[8];
  const date = zone === undefined ? new Date(year, month - 1, day, hour, minute, second, millisecond) : new Date(Date.UTC(year, month - 1, day, hour, minute, second, millisecond));
  const parts =
    zone === undefined
      ? [date.getFullYear(), date.getMonth() + 1, date.getDate(), date.getHours(), date.getMinutes(), date.getSeconds()]
      : [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()];
  if (parts.some((part, index) => part !== [year, month, day, hour, minute, second][index])) {
    throw new UsageError(`--to-datetime "${text}" is not a valid date and time`);
  }
  return date.getTime() - zoneOffsetMinutes(zone) * 60_000;
}

function zoneOffsetMinutes(zone: string | undefined): number {
  if (zone === undefined || zone === 'Z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
  return zone.startsWith('-') ? -minutes : minutes;
}

function formatPlan(groupId: string, plan: readonly OffsetResetEntry[]): string {
  const rows = plan.map((entry) => [
    groupId,
    entry.topic,
    String(entry.partition),
    entry.currentOffset === null ? missingValue : String(entry.currentOffset),
    String(entry.newOffset),
  ]);
  return formatTable(['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'NEW-OFFSET'], rows).map((line) => `${line}\n`).join('');
}

async function deleteGroups(admin: GroupsAdmin, groupIds: readonly string[], io: CommandIo): Promise<number> {
  const results = await admin.deleteGroups(groupIds);
  let failed = 0;
  for (const result of results) {
    if (result.errorCode === ErrorCode.NONE) {
      io.stdout.write(`Deleted group ${result.groupId}.\n`);
      continue;
    }
    failed++;
    io.stderr.write(`minikafka groups: cannot delete group ${result.groupId}: ${errorName(result.errorCode)}${deleteHint(result.errorCode)}\n`);
  }
  return failed === 0 ? 0 : 1;
}

function deleteHint(errorCode: number): string {
  if (errorCode === ErrorCode.NON_EMPTY_GROUP) return ' (the group has active members)';
  if (errorCode === ErrorCode.GROUP_ID_NOT_FOUND) return ' (no such group)';
  return '';
}

/** Left-aligned columns, as kafka-consumer-groups.sh prints them. */
function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const format = (cells: readonly string[]): string =>
    cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]! + columnGapSpaces))).join('');
  return [format(header), ...rows.map(format)];
}

function parseNonNegative(option: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) throw new UsageError(`${option} must be a non-negative integer, got "${text}"`);
  return value;
}
