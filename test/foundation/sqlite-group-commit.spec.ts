import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { Database } from '../../src/database/database';

/** Database.sqliteAtomically / sqliteTogether on a real SQLite file, read back through a second connection. */
describe('SQLite statements in one commit', () => {
  let dir: string;
  let dataSource: DataSource;
  let database: Database;
  let other: BetterSqlite3.Database;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'relay-group-commit-'));
    const file = join(dir, 'relay.sqlite');
    dataSource = new DataSource({ type: 'better-sqlite3', database: file, enableWAL: true });
    await dataSource.initialize();
    await dataSource.query('CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE)');
    database = new Database(dataSource);
    other = new BetterSqlite3(file, { readonly: true });
  });

  afterAll(async () => {
    other?.close();
    await dataSource?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => dataSource.query('DELETE FROM notes'));

  const committed = () => (other.prepare('SELECT text FROM notes ORDER BY id').all() as Array<{ text: string }>).map((row) => row.text);

  it('sqliteAtomically keeps all of its statements, or none when one throws', () => {
    const changed = database.sqliteAtomically((run) => run('INSERT INTO notes (text) VALUES (?), (?)', ['a', 'b']).affected);
    expect(changed).toBe(2);
    expect(database.sqliteAtomically((run) => run('SELECT text FROM notes WHERE text = ?', ['b']).records)).toEqual([{ text: 'b' }]);

    expect(() => database.sqliteAtomically((run) => {
      run('INSERT INTO notes (text) VALUES (?)', ['c']);
      run('INSERT INTO notes (text) VALUES (?)', ['a']); // duplicate: throws
    })).toThrow(/UNIQUE/);
    expect(committed()).toEqual(['a', 'b']);
  });

  it('sqliteTogether commits the work handed in during one turn of the event loop once, after all of it ran', async () => {
    const seenByOtherConnection: string[][] = [];
    const first = database.sqliteTogether((run) => run('INSERT INTO notes (text) VALUES (?)', ['first']).affected);
    const second = database.sqliteTogether((run) => {
      seenByOtherConnection.push(committed()); // the first work ran, but is not committed yet
      run('INSERT INTO notes (text) VALUES (?)', ['second']);
      return run('SELECT COUNT(*) AS n FROM notes', []).records[0].n;
    });
    expect(committed()).toEqual([]); // nothing ran before the turn ended
    await expect(Promise.all([first, second])).resolves.toEqual([1, 2]);
    expect(seenByOtherConnection).toEqual([[]]);
    expect(committed()).toEqual(['first', 'second']);
  });

  it('sqliteTogether: work that throws undoes only itself and rejects only its own promise', async () => {
    const kept = database.sqliteTogether((run) => run('INSERT INTO notes (text) VALUES (?)', ['kept']).affected);
    const broken = database.sqliteTogether((run) => {
      run('INSERT INTO notes (text) VALUES (?)', ['half-done']);
      throw new Error('the contact center answered nonsense');
    });
    const alsoKept = database.sqliteTogether((run) => run('INSERT INTO notes (text) VALUES (?)', ['also kept']).affected);
    const outcomes = await Promise.allSettled([kept, broken, alsoKept]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).toBe('the contact center answered nonsense');
    expect(committed()).toEqual(['kept', 'also kept']);
  });

  it('sqliteTogether waits for a TypeORM transaction that spans turns, so that a rollback of that one cannot undo its work', async () => {
    let together: Promise<unknown> | undefined;
    const typeorm = database.transaction(async (manager) => {
      await manager.query('INSERT INTO notes (text) VALUES (?)', ['rolled back']);
      together = database.sqliteTogether((run) => run('INSERT INTO notes (text) VALUES (?)', ['committed on its own']).affected);
      await new Promise((resolve) => setTimeout(resolve, 20)); // several turns of the event loop
      throw new Error('the transaction gives up');
    });
    await expect(typeorm).rejects.toThrow('the transaction gives up');
    await expect(together).resolves.toBe(1);
    expect(committed()).toEqual(['committed on its own']);
  });

  it('sqliteTogether work handed in after a commit goes in the next one', async () => {
    await database.sqliteTogether((run) => run('INSERT INTO notes (text) VALUES (?)', ['one']));
    expect(committed()).toEqual(['one']);
    await database.sqliteTogether((run) => run('INSERT INTO notes (text) VALUES (?)', ['two']));
    expect(committed()).toEqual(['one', 'two']);
  });
});
