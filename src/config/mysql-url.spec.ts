import { dataSourceOptions } from '../database/data-source';
import { MysqlUrlError, parseMysqlUrl, unusedMysqlUrlParameters } from './mysql-url';

describe('parseMysqlUrl', () => {
  it('reads a TCP URL', () => {
    expect(parseMysqlUrl('mysql://relay:secret@db.internal:3306/relay')).toEqual({
      host: 'db.internal', port: 3306, user: 'relay', password: 'secret', database: 'relay',
    });
  });

  it('reads a socketPath, keeping the credentials and database', () => {
    expect(parseMysqlUrl('mysql://user:pass@localhost/dbname?socketPath=/run/mysqld/mysqld.sock')).toEqual({
      host: 'localhost', port: undefined, user: 'user', password: 'pass', database: 'dbname', socketPath: '/run/mysqld/mysqld.sock',
    });
    expect(parseMysqlUrl('mysql://root@localhost?socketPath=/run/mysqld/mysqld.sock')).toEqual({
      host: 'localhost', port: undefined, user: 'root', password: undefined, database: undefined, socketPath: '/run/mysqld/mysqld.sock',
    });
    expect(parseMysqlUrl('mysql:///relay?socketPath=%2Fvar%2Frun%2Fmysqld%2Fmysqld.sock')).toMatchObject({
      host: undefined, database: 'relay', socketPath: '/var/run/mysqld/mysqld.sock',
    });
  });

  it('decodes percent-encoded credentials and database, and unwraps an IPv6 host', () => {
    expect(parseMysqlUrl('mysql://us%40er:p%40ss%3Aw%2Fd@[::1]:3307/my%20db')).toEqual({
      host: '::1', port: 3307, user: 'us@er', password: 'p@ss:w/d', database: 'my db',
    });
  });

  it('leaves other query parameters unused, as before, and names them for the warning at boot', () => {
    expect(parseMysqlUrl('mysql://u:p@db/relay?charset=utf8mb4')).toEqual({ host: 'db', port: undefined, user: 'u', password: 'p', database: 'relay' });
    expect(unusedMysqlUrlParameters('mysql://u:p@db/relay?charset=utf8mb4&ssl=true&charset=latin1')).toEqual(['charset', 'ssl']);
    expect(unusedMysqlUrlParameters('mysql://u:p@localhost/relay?socketPath=/run/mysqld/mysqld.sock')).toEqual([]);
    expect(unusedMysqlUrlParameters('mysql://u:p@db/relay')).toEqual([]);
    expect(unusedMysqlUrlParameters('not a url')).toEqual([]);
  });

  it.each([
    ['postgres://u:p@db/relay', /^must be a mysql:\/\/ URL, e\.g\. mysql:\/\/user:pass@host:3306\/relay/],
    ['mysql://u:p@db:99999/relay', /^is not a valid URL: percent-encode .* port from 1 to 65535/],
    ['mysql://u:p%zz@db/relay', /^is not a valid URL: percent-encode @ : \/ \? # %/],
    ['mysql://u:p@localhost/relay?socketPath=', /^has an empty socketPath: name the server's Unix socket by its absolute path \(SELECT @@socket on the server gives it\), e\.g\. mysql:\/\/user:pass@localhost\/relay\?socketPath=\/run\/mysqld\/mysqld\.sock$/],
    ['mysql://u:p@localhost/relay?socketPath', /^has an empty socketPath/],
    ['mysql://u:p@localhost/relay?socketPath=run/mysqld/mysqld.sock', /^has a relative socketPath \(got "run\/mysqld\/mysqld\.sock"\): name the server's Unix socket by its absolute path/],
    ['mysql://u:p@localhost/relay?socketPath=./mysqld.sock', /^has a relative socketPath \(got "\.\/mysqld\.sock"\)/],
    ['mysql://u:p@localhost/relay?socketPath=/a.sock&socketPath=/b.sock', /^gives socketPath 2 times: give it once/],
    ['mysql://u:p@localhost/relay?socketpath=/run/mysqld/mysqld.sock', /^has the parameter "socketpath": write socketPath/],
    ['mysql://u:p@localhost/relay?socket=/run/mysqld/mysqld.sock', /^has the parameter "socket": write socketPath/],
  ])('refuses %s, saying what to write instead', (url, message) => {
    expect(() => parseMysqlUrl(url)).toThrow(MysqlUrlError);
    expect(() => parseMysqlUrl(url)).toThrow(message);
  });

  it('never puts the password in its message', () => {
    for (const url of ['mysql://u:hunter2-secret@db:99999/relay', 'mysql://u:hunter2-secret%zz@db/relay', 'mysql://u:hunter2-secret@localhost/relay?socketPath=x.sock']) {
      expect(() => parseMysqlUrl(url)).toThrow(/^((?!hunter2).)*$/);
    }
  });
});

describe('dataSourceOptions on MySQL', () => {
  it('hands TypeORM the URL as separate options, with the socketPath', () => {
    expect(dataSourceOptions({ database: { kind: 'mysql', url: 'mysql://user:pa%23ss@localhost/relay?socketPath=/run/mysqld/mysqld.sock' } })).toMatchObject({
      type: 'mysql', host: 'localhost', username: 'user', password: 'pa#ss', database: 'relay', socketPath: '/run/mysqld/mysqld.sock',
    });
    const tcp = dataSourceOptions({ database: { kind: 'mysql', url: 'mysql://u:p@db:3306/relay' } });
    expect(tcp).toMatchObject({ host: 'db', port: 3306, username: 'u', password: 'p', database: 'relay', socketPath: undefined });
    expect(tcp).not.toHaveProperty('url');
  });
});
