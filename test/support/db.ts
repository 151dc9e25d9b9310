import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { createPGlite, withDatabase, type Engine } from './engines.ts';

export type Row = Record<string, unknown>;

/** Anything that runs one statement with `$n` parameters. */
export interface Queryable {
  query<T extends Row = Row>(text: string, params?: unknown[]): Promise<T[]>;
}

/** Who a test acts as: the claims the API would set for a request. */
export type Principal =
  | { role: 'anon'; claims?: Record<string, unknown> }
  | { role: 'authenticated'; userId: string; tenantId?: string; claims?: Record<string, unknown> };

export const anon: Principal = { role: 'anon' };

export interface TestDb extends Queryable {
  readonly engine: Engine;
  /** postgres only: superuser URL of this file's database, for tests that open many connections. */
  readonly url: string | undefined;
  /**
   * Runs `fn` in one transaction as `who` (`set local role` + `request.jwt.claims`), then commits.
   * This is how tests read and write: never assert on what a superuser sees.
   */
  as<T>(who: Principal, fn: (q: Queryable) => Promise<T>): Promise<T>;
  /** One statement as `who`. */
  queryAs<T extends Row = Row>(who: Principal, text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export function claimsOf(who: Principal): Record<string, unknown> {
  if (who.role === 'anon') return { role: 'anon', ...who.claims };
  return { role: 'authenticated', sub: who.userId, tenant_id: who.tenantId, ...who.claims };
}

const BECOME = `select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`;

/** Opens this test file's own database, migrated, on the engine of the running project. */
export async function openTestDb(): Promise<TestDb> {
  const engine = inject('engine');
  return engine === 'pglite' ? openPGliteDb() : openPostgresDb();
}

/** Registers beforeAll/afterAll for a per-file database and returns an accessor. */
export function useTestDb(): () => TestDb {
  let db: TestDb | undefined;
  beforeAll(async () => {
    db = await openTestDb();
  }, 60_000);
  afterAll(async () => {
    await db?.close();
  });
  return () => {
    if (!db) throw new Error('the test database is opened in beforeAll');
    return db;
  };
}

async function openPGliteDb(): Promise<TestDb> {
  const dump = new Blob([await readFile(inject('pgliteDump'))]);
  const pg: PGlite = await createPGlite({ loadDataDir: dump });
  const wrap = (q: PGlite | Transaction): Queryable => ({
    async query<T extends Row>(text: string, params?: unknown[]) {
      return (await q.query<T>(text, params)).rows;
    },
  });
  const self: TestDb = {
    engine: 'pglite',
    url: undefined,
    query: (text, params) => wrap(pg).query(text, params),
    as: (who, fn) =>
      pg.transaction(async (tx) => {
        await tx.query(BECOME, [who.role, JSON.stringify(claimsOf(who))]);
        return fn(wrap(tx));
      }),
    queryAs: (who, text, params) => self.as(who, (q) => q.query(text, params)),
    close: () => pg.close(),
  };
  return self;
}

async function openPostgresDb(): Promise<TestDb> {
  const serverUrl = inject('postgresUrl');
  const name = `${inject('databasePrefix')}${randomBytes(4).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name} template ${inject('templateDatabase')}`);
  await admin.end();
  const url = withDatabase(serverUrl, name);
  const sql = postgres(url, { max: 4, onnotice: () => {} });
  const wrap = (q: postgres.Sql | postgres.TransactionSql): Queryable => ({
    async query<T extends Row>(text: string, params?: unknown[]) {
      return [...(await q.unsafe(text, params as postgres.ParameterOrJSON<never>[]))] as unknown as T[];
    },
  });
  const self: TestDb = {
    engine: 'postgres',
    url,
    query: (text, params) => wrap(sql).query(text, params),
    as: async (who, fn) =>
      (await sql.begin(async (tx) => {
        await tx.unsafe(BECOME, [who.role, JSON.stringify(claimsOf(who))]);
        return fn(wrap(tx));
      })) as never,
    queryAs: (who, text, params) => self.as(who, (q) => q.query(text, params)),
    async close() {
      await sql.end({ timeout: 5 });
      const drop = postgres(serverUrl, { max: 1, onnotice: () => {} });
      await drop.unsafe(`drop database if exists ${name} with (force)`);
      await drop.end();
    },
  };
  return self;
}

/** Awaits a statement that must fail, and asserts its SQLSTATE (or one of several). Returns the error. */
export async function expectSqlState(
  promise: Promise<unknown>,
  code: string | string[],
): Promise<{ code: string; constraint?: string; constraint_name?: string; message: string }> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  expect(error, `expected SQLSTATE ${code}, but the statement succeeded`).toBeDefined();
  const e = error as { code?: string; constraint?: string; constraint_name?: string; message: string };
  const codes = Array.isArray(code) ? code : [code];
  expect(codes, `expected SQLSTATE ${codes.join(' or ')}, got ${e.code}: ${e.message}`).toContain(e.code);
  return e as { code: string; message: string };
}

/** The constraint an error names (postgres.js: constraint_name; PGlite: constraint). */
export function constraintOf(error: { constraint?: string; constraint_name?: string }): string | undefined {
  return error.constraint_name ?? error.constraint;
}
