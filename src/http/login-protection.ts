import type postgres from 'postgres';
import { ProblemError } from './problem.ts';
import { rateLimitKey } from './rate-limit.ts';

/**
 * Brute-force protection of sign-in (staff and customers), counted in PostgreSQL
 * (slotbase_private.rate_limits) so every API process shares it. Failed sign-ins are counted per
 * account (the email as typed, lower-cased: unknown emails are counted the same, so the answer
 * tells nothing about which exist), per client address and per account-and-address pair, each a
 * budget of failures per window refilled evenly (GCRA). Before the password is checked, an attempt
 * that any of its budgets cannot take is refused with 429 `too_many_login_attempts` and
 * Retry-After, right password or not. A successful sign-in clears the pair's failures and makes the
 * address "known" to the account for `knownAddressDays`; a known address skips the account-wide
 * budget, so an attack on an account from elsewhere cannot lock its owner out of their usual
 * places. See README "Security".
 */
export interface LoginProtectionOptions {
  /** Failures of one account from all addresses per window. Default 20. */
  accountFailures?: number;
  /** Failures from one address over all accounts per window. Default 50. */
  addressFailures?: number;
  /** Failures of one account from one address per window. Default 5. */
  pairFailures?: number;
  /** The window, in seconds. Default 900 (15 minutes). */
  windowSeconds?: number;
  /** How long a successful sign-in keeps an address known to the account. Default 30 days. */
  knownAddressDays?: number;
  /** The clock, in milliseconds (tests pass a fake one); absent, the database's. */
  now?: () => number;
}

export interface LoginAttempt {
  email: string;
  /** The client's address; unknown, only the account budget applies. */
  address?: string | undefined;
}

interface Keys {
  account: Buffer;
  address: Buffer | null;
  pair: Buffer | null;
  known: Buffer | null;
}

function keysOf(attempt: LoginAttempt): Keys {
  const email = attempt.email.trim().toLowerCase();
  const address = attempt.address;
  return {
    account: rateLimitKey(`login:account:${email}`),
    address: address ? rateLimitKey(`login:address:${address}`) : null,
    pair: address ? rateLimitKey(`login:pair:${email}\n${address}`) : null,
    known: address ? rateLimitKey(`login:known:${email}\n${address}`) : null,
  };
}

export function loginProtection(sql: postgres.Sql, options: LoginProtectionOptions = {}) {
  const account = options.accountFailures ?? 20;
  const address = options.addressFailures ?? 50;
  const pair = options.pairFailures ?? 5;
  const window = options.windowSeconds ?? 900;
  const knownDays = options.knownAddressDays ?? 30;
  const now = () => (options.now ? new Date(options.now()) : null);

  return {
    /** Throws 429 `too_many_login_attempts` when this attempt must wait (`setHeader` gets Retry-After). */
    async check(attempt: LoginAttempt, setHeader?: (name: string, value: string) => void): Promise<void> {
      const k = keysOf(attempt);
      const [row] = await sql<{ wait: number }[]>`
        select slotbase_private.login_attempt_wait(${k.account}, ${k.address}, ${k.pair}, ${k.known},
               ${account}, ${address}, ${pair}, ${window}, ${now()}) as wait`;
      const wait = row?.wait ?? 0;
      if (wait > 0) {
        setHeader?.('Retry-After', String(Math.max(1, Math.ceil(wait - 1e-6))));
        throw new ProblemError(429, 'too_many_login_attempts', 'Too many failed sign-ins; retry after the time in Retry-After');
      }
    },
    async failed(attempt: LoginAttempt): Promise<void> {
      const k = keysOf(attempt);
      await sql`select slotbase_private.record_login_failure(${k.account}, ${k.address}, ${k.pair},
                ${account}, ${address}, ${pair}, ${window}, ${now()})`;
    },
    async succeeded(attempt: LoginAttempt): Promise<void> {
      const k = keysOf(attempt);
      if (!k.pair) return;
      await sql`select slotbase_private.record_login_success(${k.pair}, ${k.known}, ${knownDays}, ${now()})`;
    },
  };
}

export type LoginProtection = ReturnType<typeof loginProtection>;

/** What verifyCredentials needs to guard one sign-in: the protection (absent: off), the client's address, a header setter. */
export interface LoginGuard {
  protection?: LoginProtection | undefined;
  address?: string | undefined;
  setHeader?: (name: string, value: string) => void;
}

/** The guard of the current request (createApp puts the protection and the client's address on the context). */
export function loginGuardOf(c: { var: { loginProtection?: LoginProtection | undefined; clientAddress?: string | undefined }; header: (name: string, value: string) => void }): LoginGuard {
  return { protection: c.var.loginProtection, address: c.var.clientAddress, setHeader: (name, value) => c.header(name, value) };
}
