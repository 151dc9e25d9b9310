import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { createPGlite, servePGlite, withDatabase } from './engines.ts';
import type { Row } from './db.ts';

export interface EmptyDatabase {
  /** Connection string the migration runner (or a child process) can use. */
  url: string;
  /** Catalog inspection by the test itself (the runner's own behaviour, not user-visible data). */
  query<T extends Row = Row>(text: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** A database with nothing in it, on the running engine: for tests of the migration runner. */
export async function emptyDatabase(): Promise<EmptyDatabase> {
  if (inject('engine') === 'pglite') {
    const pg = await createPGlite();
    const server = await servePGlite(pg);
    return {
      url: server.url,
      query: async (text, params) => (await pg.query(text, params)).rows as never,
      drop: async () => {
        await server.stop();
        await pg.close();
      },
    };
  }
  const serverUrl = inject('postgresUrl');
  const name = `${inject('databasePrefix')}empty_${randomBytes(4).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = withDatabase(serverUrl, name);
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  return {
    url,
    query: async (text, params) => [...(await sql.unsafe(text, params as never[]))] as never,
    drop: async () => {
      await sql.end();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}
