import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type postgres from 'postgres';
import { afterEach } from 'vitest';
import { claimsOf, type Principal, type Queryable, type Row } from './db.ts';
import { until } from './worker.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/slotbase.js', import.meta.url));

export interface SlotbaseProcess {
  process: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True until the process has exited. */
  alive(): boolean;
}

export interface ApiProcess extends SlotbaseProcess {
  /** `http://127.0.0.1:<port>` */
  base: string;
  port: number;
}

/** A port on 127.0.0.1 that nothing listened on a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** The same server and database as `databaseUrl`, logged in as the API's role with `password`. */
export function asApiRole(databaseUrl: string, password: string): string {
  const url = new URL(databaseUrl);
  url.username = 'slotbase_api';
  url.password = encodeURIComponent(password);
  return url.toString();
}

/** A postgres.js pool as a Queryable (`$n` parameters), like the test database's. */
export function queryable(sql: postgres.Sql | postgres.TransactionSql): Queryable {
  return {
    async query<T extends Row>(text: string, params?: unknown[]) {
      return [...(await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[]))] as unknown as T[];
    },
  };
}

/** One statement in a transaction as `who` (role + claims), as test/support/db.ts does for its own database. */
export async function queryAs<T extends Row>(sql: postgres.Sql, who: Principal, text: string, params?: unknown[]): Promise<T[]> {
  return (await sql.begin(async (tx) => {
    await tx.unsafe(`select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`, [who.role, JSON.stringify(claimsOf(who))]);
    return queryable(tx).query<T>(text, params);
  })) as unknown as T[];
}

/**
 * Starts real `node bin/slotbase.js …` processes for a test file; afterEach SIGKILLs whatever is
 * still running, so a failing test never leaves one behind.
 */
export function useProcesses() {
  const started: SlotbaseProcess[] = [];
  afterEach(async () => {
    while (started.length > 0) {
      const child = started.pop()!;
      if (child.alive()) child.process.kill('SIGKILL');
      await child.exited;
    }
  });

  /** `node bin/slotbase.js <args>` with only the environment given (plus PATH and HOME). */
  function slotbase(args: string[], env: Record<string, string>): SlotbaseProcess {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (c: Buffer) => {
      output = (output + c.toString()).slice(-20_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let done = false;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => {
        done = true;
        resolve({ code, signal });
      }),
    );
    const handle: SlotbaseProcess = { process: child, output: () => output, exited, alive: () => !done };
    started.push(handle);
    return handle;
  }

  /**
   * `slotbase serve` on 127.0.0.1:`port` (a free one by default) logged in as `apiDatabaseUrl`;
   * resolves once /health answers (bounded polling). Rate limits are lifted so a burst is not refused.
   */
  async function api(options: { apiDatabaseUrl: string; databaseUrl?: string; port?: number; env?: Record<string, string> }): Promise<ApiProcess> {
    const port = options.port ?? (await freePort());
    const child = slotbase(['serve'], {
      API_DATABASE_URL: options.apiDatabaseUrl,
      ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
      SLOTBASE_JWT_SECRET: randomBytes(32).toString('base64url'),
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'silent',
      RATE_LIMIT_PUBLIC_PER_MINUTE: '1000000',
      RATE_LIMIT_AUTHENTICATED_PER_MINUTE: '1000000',
      RATE_LIMIT_BOOKING_PER_MINUTE: '1000000',
      RATE_LIMIT_AUTH_PER_MINUTE: '1000000',
      RATE_LIMIT_DEVICE_TOKEN_PER_MINUTE: '1000000',
      ...options.env,
    });
    const base = `http://127.0.0.1:${port}`;
    await until(
      async () => {
        if (!child.alive()) throw new Error(`slotbase serve exited before answering:\n${child.output()}`);
        try {
          const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2_000) });
          await res.arrayBuffer();
          return res.ok;
        } catch {
          return false; // not listening yet
        }
      },
      30_000,
      `slotbase serve to answer on ${base}/health`,
    );
    return { ...child, base, port };
  }

  return { slotbase, api };
}
