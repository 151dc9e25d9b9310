import { PGlite } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** The two engines SQL-level tests run on. */
export type Engine = 'pglite' | 'postgres';

/** A fresh in-process PGlite with the extensions our migrations need. */
export function createPGlite(options: { loadDataDir?: Blob | File } = {}): Promise<PGlite> {
  return PGlite.create({ extensions: { btree_gist }, ...options });
}

/**
 * Serves a PGlite over the Postgres wire protocol on 127.0.0.1, so the same migration runner
 * (postgres.js + graphile-worker's pg pool) runs against it as against a real server.
 * PGlite is single-session: the connections share it, which is fine for sequential use.
 */
export async function servePGlite(db: PGlite): Promise<{ url: string; stop(): Promise<void> }> {
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 4 });
  await server.start();
  const port = Number(server.getServerConn().split(':').pop());
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop: () => server.stop() };
}

/** `postgres://…/other` from `postgres://…/db?x` — the same server, another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
