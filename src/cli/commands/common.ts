import { ClusterClient } from '../../client/cluster-client.js';

/**
 * What the console commands (topics, produce, consume, groups, perf) share: the streams they run on
 * and the argv normaliser that lets option values start with a dash.
 */

/** The streams a command runs on; tests pass in-memory ones. */
export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Where `produce` reads records from. Default: process.stdin. */
  readonly stdin?: NodeJS.ReadableStream;
  /** Stops `consume` when aborted. Default: SIGINT or SIGTERM when run on the process streams. */
  readonly signal?: AbortSignal;
}

/**
 * Rewrites "--option value" as "--option=value" for string options, so values that start with
 * a dash ("--acks -1", "--key-separator -", "--to-offset -1") are taken as values; parseArgs
 * calls them ambiguous otherwise.
 */
export function attachOptionValues(argv: readonly string[], known: Readonly<Record<string, { readonly type: string }>>): string[] {
  const result: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    const name = argument.startsWith('--') ? argument.slice(2) : '';
    if (known[name]?.type === 'string' && index + 1 < argv.length) {
      result.push(`${argument}=${argv[index + 1]}`);
      index++;
    } else {
      result.push(argument);
    }
  }
  return result;
}

/** A mistake in how the command was called: exit code 2 rather than 1. */
export class UsageError extends Error {}

/**
 * The part every cluster command shares after parsing its arguments: connect, run `action`,
 * report a failure as `minikafka <name>: message`, exit 2 for usage errors and 1 for operating
 * errors, and always close the client.
 */
export async function withClusterClient(
  name: string,
  bootstrapServers: string,
  stderr: NodeJS.WritableStream,
  action: (client: ClusterClient) => Promise<number>,
): Promise<number> {
  let client: ClusterClient;
  try {
    client = new ClusterClient({ bootstrapServers, clientId: `minikafka-${name}` });
  } catch (error) {
    stderr.write(`minikafka ${name}: ${(error as Error).message}\n`);
    return 2;
  }
  try {
    return await action(client);
  } catch (error) {
    stderr.write(`minikafka ${name}: ${(error as Error).message}\n`);
    return error instanceof UsageError ? 2 : 1;
  } finally {
    await client.close();
  }
}
