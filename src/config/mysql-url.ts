import { isAbsolute } from 'node:path';

/** A mysql:// URL's server, as mysql2 takes it (TypeORM's MySQL driver takes the same, `user` as `username`). */
export interface MysqlServer {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  /** The server's Unix socket; host and port are then not used. */
  socketPath?: string;
}

/** A mysql:// URL that cannot be used; its message follows the variable's name and never holds the password. */
export class MysqlUrlError extends Error {}

const MYSQL_URL_EXAMPLE = 'mysql://user:pass@host:3306/relay';
const SOCKET_EXAMPLE = 'mysql://user:pass@localhost/relay?socketPath=/run/mysqld/mysqld.sock';
const ABSOLUTE_SOCKET = `name the server's Unix socket by its absolute path (SELECT @@socket on the server gives it), e.g. ${SOCKET_EXAMPLE}`;

/**
 * The query parameters of a mysql:// URL that the relay does not use (all but socketPath), each named once, for a
 * warning at boot: the relay sets the character set, the time zone and its pools itself. Empty for a URL it cannot read.
 */
export function unusedMysqlUrlParameters(raw: string): string[] {
  try {
    return [...new Set(new URL(raw).searchParams.keys())].filter((name) => name !== 'socketPath');
  } catch {
    return [];
  }
}

/**
 * Reads `mysql://user:pass@host:3306/db`, or `mysql://user:pass@localhost/db?socketPath=/run/mysqld/mysqld.sock`
 * for a server on this machine reached through its Unix socket instead of TCP. Every reader of DATABASE_URL
 * (the relay, the migrations, the bench, the test helpers) goes through it, so all take the same URLs.
 * Other query parameters are left unused, as before sockets were supported (the relay warns of them at boot,
 * `unusedMysqlUrlParameters`); a misspelt socketPath is refused, since ignoring it would quietly go over TCP.
 */
export function parseMysqlUrl(raw: string): MysqlServer {
  if (!/^mysql:\/\/\S+$/.test(raw)) {
    throw new MysqlUrlError(`must be a mysql:// URL, e.g. ${MYSQL_URL_EXAMPLE} (unset for the embedded SQLite file)`);
  }
  let url: URL;
  let server: MysqlServer;
  try {
    url = new URL(raw);
    server = {
      host: url.hostname.replace(/^\[(.*)\]$/, '$1') || undefined,
      port: url.port ? Number(url.port) : undefined,
      user: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      database: url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : undefined,
    };
  } catch {
    throw new MysqlUrlError(`is not a valid URL: percent-encode @ : / ? # % in the user and password (e.g. @ as %40), and give a port from 1 to 65535, e.g. ${MYSQL_URL_EXAMPLE}`);
  }
  for (const name of url.searchParams.keys()) {
    if (name !== 'socketPath' && /^socket/i.test(name)) throw new MysqlUrlError(`has the parameter "${name}": write socketPath, e.g. ${SOCKET_EXAMPLE}`);
  }
  const sockets = url.searchParams.getAll('socketPath');
  if (sockets.length > 1) throw new MysqlUrlError(`gives socketPath ${sockets.length} times: give it once, e.g. ${SOCKET_EXAMPLE}`);
  if (sockets.length) {
    const [socketPath] = sockets;
    if (!socketPath) throw new MysqlUrlError(`has an empty socketPath: ${ABSOLUTE_SOCKET}`);
    if (!isAbsolute(socketPath)) throw new MysqlUrlError(`has a relative socketPath (got ${JSON.stringify(socketPath)}): ${ABSOLUTE_SOCKET}`);
    server.socketPath = socketPath;
  }
  return server;
}
