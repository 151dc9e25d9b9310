import { describe, expect, it } from 'vitest';
import { uniq } from '../support/factories.ts';
import { useApi } from '../support/http.ts';

/** The test's clock (passed to the database as p_now): moved by hand, never by sleeping. */
let now = Date.parse('2027-03-01T08:00:00Z');
const advance = (seconds: number) => {
  now += seconds * 1000;
};

/**
 * Per window of 15 minutes: 3 failures of an account from one address (then one try every 5 min),
 * 6 of an address over all accounts, 4 of an account from anywhere. Rate limits are off here: only
 * the failed-login counting is under test.
 */
const POLICY = { pairFailures: 3, addressFailures: 6, accountFailures: 4, windowSeconds: 900, now: () => now };
const PASSWORD = 'correct horse battery staple';

interface Problem {
  code: string;
}

describe('login brute-force protection', () => {
  const api = useApi({ rateLimit: { trustProxy: true, store: { take: async () => ({ allowed: true, remaining: 1, resetSeconds: 0, retryAfterSeconds: 0 }) } }, loginProtection: POLICY });

  const newIp = () => `203.0.113.${Math.floor(Math.random() * 250) + 1}-${uniq()}`;

  async function account() {
    const email = `${uniq('owner-')}@example.test`;
    const res = await api().json('POST', '/v1/signup', {
      body: { email, password: PASSWORD, tenant: { slug: uniq('clinic-'), name: 'Clinic', time_zone: 'Europe/Berlin' } },
    });
    expect(res.status).toBe(201);
    return email;
  }

  const login = (email: string, ip: string, password = 'not the password') =>
    api().json<Problem>('POST', '/v1/auth/login', { headers: { 'x-forwarded-for': ip }, body: { email, password } });

  it('after 3 failures from one address the account is locked for that address, right password or not, with Retry-After', async () => {
    const email = await account();
    const ip = newIp();
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await login(email, ip)).body.code);
    expect(codes).toEqual(['invalid_credentials', 'invalid_credentials', 'invalid_credentials']);
    const locked = await login(email, ip, PASSWORD);
    expect(locked).toMatchObject({ status: 429, body: { code: 'too_many_login_attempts' } });
    expect(locked.headers.get('content-type')).toBe('application/problem+json');
    expect(locked.headers.get('retry-after')).toBe('300');
  });

  it('a lock on one address does not keep the owner out from another', async () => {
    const email = await account();
    const attacker = newIp();
    for (let i = 0; i < 3; i++) await login(email, attacker);
    expect((await login(email, attacker, PASSWORD)).status).toBe(429);
    expect((await login(email, newIp(), PASSWORD)).status).toBe(200);
  });

  it('the lock lifts as time passes (one more try per 5 minutes), and a success forgives the address its failures', async () => {
    const email = await account();
    const ip = newIp();
    for (let i = 0; i < 3; i++) await login(email, ip);
    advance(299);
    expect((await login(email, ip, PASSWORD)).status).toBe(429);
    advance(1);
    expect((await login(email, ip, PASSWORD)).status).toBe(200);
    // Forgiven: three more failures before the next lock, not one.
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await login(email, ip)).body.code);
    expect(codes).toEqual(['invalid_credentials', 'invalid_credentials', 'invalid_credentials', 'too_many_login_attempts']);
  });

  it('guessing spread over many addresses locks the account for new addresses, but not for one the owner signed in from before', async () => {
    const email = await account();
    const home = newIp();
    expect((await login(email, home, PASSWORD)).status).toBe(200);
    // Four failures from four addresses: the account-wide budget is spent.
    for (let i = 0; i < 4; i++) expect((await login(email, newIp())).body.code).toBe('invalid_credentials');
    const fresh = await login(email, newIp(), PASSWORD);
    expect(fresh).toMatchObject({ status: 429, body: { code: 'too_many_login_attempts' } });
    // The owner's known address still gets in.
    expect((await login(email, home, PASSWORD)).status).toBe(200);
  });

  it('an address failing across many accounts is stopped on all of them', async () => {
    const ip = newIp();
    // Unknown emails count like real ones (below), so three made-up accounts stand for three real ones.
    const emails = [1, 2, 3].map(() => `${uniq('someone-')}@example.test`);
    for (const email of emails) for (let i = 0; i < 2; i++) expect((await login(email, ip)).body.code).toBe('invalid_credentials');
    const other = await account();
    expect((await login(other, ip, PASSWORD)).body.code).toBe('too_many_login_attempts');
    expect((await login(other, newIp(), PASSWORD)).status).toBe(200);
  });

  it('unknown emails are counted like real ones, so the answers tell nothing about which accounts exist', async () => {
    const ip = newIp();
    const nobody = `${uniq('nobody-')}@example.test`;
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await login(nobody, ip)).body.code);
    expect(codes).toEqual(['invalid_credentials', 'invalid_credentials', 'invalid_credentials', 'too_many_login_attempts']);
  });

  it('the email is counted whatever its case', async () => {
    const email = await account();
    const ip = newIp();
    for (const variant of [email, email.toUpperCase(), ` ${email}`.trim()]) await login(variant, ip);
    expect((await login(email, ip, PASSWORD)).body.code).toBe('too_many_login_attempts');
  });
});

describe('login brute-force protection of customer accounts', () => {
  const api = useApi({ rateLimit: false, loginProtection: { pairFailures: 2, addressFailures: 100, accountFailures: 2, windowSeconds: 900, now: () => now } });

  it('customer logins count failures the same way (here: per account, the address being unknown)', async () => {
    const owner = await api().json<{ tenant: { slug: string } }>('POST', '/v1/signup', {
      body: { email: `${uniq('o-')}@example.test`, password: PASSWORD, tenant: { slug: uniq('clinic-'), name: 'Clinic', time_zone: 'Europe/Berlin' } },
    });
    const slug = owner.body.tenant.slug;
    const email = `${uniq('customer-')}@example.test`;
    expect((await api().json('POST', `/v1/public/${slug}/customers/signup`, { body: { email, password: PASSWORD, name: 'Ada' } })).status).toBe(201);
    const login = (password: string) => api().json<Problem>('POST', `/v1/public/${slug}/customers/login`, { body: { email, password } });
    expect((await login('wrong password 1')).body.code).toBe('invalid_credentials');
    expect((await login('wrong password 2')).body.code).toBe('invalid_credentials');
    expect((await login(PASSWORD)).body.code).toBe('too_many_login_attempts');
    advance(450);
    expect((await login(PASSWORD)).status).toBe(200);
  });
});
