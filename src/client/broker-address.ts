/** `host:port` lists as given to `--bootstrap-server`. */

export interface HostAndPort {
  readonly host: string;
  readonly port: number;
}

/** Parses "host:port[,host:port...]" (IPv6 hosts in brackets: "[::1]:9092"). */
export function parseBootstrapServers(servers: string | readonly string[]): HostAndPort[] {
  const entries = typeof servers === 'string' ? servers.split(',') : servers.flatMap((entry) => entry.split(','));
  const parsed: HostAndPort[] = [];
  for (const rawEntry of entries) {
    const entry = rawEntry.trim();
    if (entry === '') continue;
    parsed.push(parseHostAndPort(entry));
  }
  if (parsed.length === 0) throw new Error('no bootstrap servers given (expected host:port[,host:port])');
  return parsed;
}

export function parseHostAndPort(entry: string): HostAndPort {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(entry) ?? /^([^:]+):(\d+)$/.exec(entry);
  if (match === null) throw new Error(`"${entry}" is not host:port`);
  const port = Number(match[2]);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`"${entry}" has an invalid port`);
  return { host: match[1]!, port };
}
