import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/processes.ts';
import { until } from '../support/worker.ts';

// A new user: a clean clone of what is committed (HEAD; uncommitted changes are not in it — CI runs
// on a clean clone anyway), `npm install`, `npm start` with an embedded PostgreSQL in a temp data
// dir, a booking through the demo page's public API, SIGTERM, `npm start` again: the booking is
// still there. Slow (npm install, first start): about a minute or two.
// SLOTBASE_NEW_USER_REPO: clone another repository (e.g. a scratch commit of a working tree).
const REPO = process.env.SLOTBASE_NEW_USER_REPO ?? fileURLToPath(new URL('../..', import.meta.url));
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await Promise.resolve(cleanups.pop()!()).catch(() => {});
});

/** `npm start` in its own process group (npm, node, the embedded PostgreSQL), collecting all output. */
function npmStart(cwd: string, env: Record<string, string>) {
  const child: ChildProcess = spawn('npm', ['start', '--silent'], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  // npm may exit before the app it started (it passes a signal on and ends itself by it): done
  // waits for npm's exit and for every process writing to its output (the app) to be gone.
  const closed = (stream: NodeJS.ReadableStream) => new Promise<void>((resolve) => stream.once('close', () => resolve()));
  const npmExit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const done = Promise.all([npmExit, closed(child.stdout!), closed(child.stderr!)]).then(([exit]) => (exited = exit));
  const group = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  // On failure: the whole group, at once.
  cleanups.push(async () => {
    if (!exited) {
      group('SIGKILL');
      await done;
    }
  });
  return { output: () => output, done, alive: () => !exited, group };
}

describe('a new user: clone, npm install, npm start, book, restart', () => {
  it('keeps the booking made on the demo page across a SIGTERM and a restart', async () => {
    const git = spawnSync('git', ['-C', REPO, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
    if (git.status !== 0) throw new Error(`not a git checkout: ${git.stderr}`);
    const dir = await mkdtemp(join(tmpdir(), 'slotbase-new-user-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    // As root, the embedded server runs as the `postgres` OS user: it must reach the data dir.
    await chmod(dir, 0o755);
    const app = join(dir, 'slotbase');
    const clone = spawnSync('git', ['clone', '--quiet', REPO, app], { encoding: 'utf8', timeout: 120_000 });
    expect(clone.status, clone.stderr).toBe(0);
    const install = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: app,
      encoding: 'utf8',
      timeout: 600_000,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? '/root', '.npm') },
    });
    expect(install.status, `${install.stdout}\n${install.stderr}`).toBe(0);

    const port = await freePort();
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      // No DATABASE_URL: the embedded PostgreSQL, with its data here.
      SLOTBASE_DATA_DIR: join(dir, 'data'),
      SLOTBASE_EMBEDDED_PG_PORT: String(await freePort()),
      PORT: String(port),
    };
    const started = async () => {
      const run = npmStart(app, env);
      await until(() => {
        if (!run.alive()) throw new Error(`npm start exited:\n${run.output()}`);
        return /Slotbase is running\./.test(run.output());
      }, 300_000, 'npm start to print its URLs');
      return run;
    };

    // SIGTERM to the whole group, as a terminal's Ctrl-C or a supervisor stopping `npm start` does:
    // npm passes it on and then ends itself by the same signal; slotbase shuts down in order.
    const stopped = async (run: ReturnType<typeof npmStart>) => {
      run.group('SIGTERM');
      const exit = await run.done;
      expect([JSON.stringify({ code: 0, signal: null }), JSON.stringify({ code: null, signal: 'SIGTERM' })], run.output()).toContain(JSON.stringify(exit));
      expect(run.output()).toMatch(/"msg":"worker stopped"/);
      expect(run.output()).not.toMatch(/"level":(50|60)/); // no error or fatal on the way down
    };

    const first = await started();
    const demoUrl = /^\s+demo\s+(http:\/\/\S+\/b\/demo)\s/m.exec(first.output())?.[1];
    expect(demoUrl, first.output()).toBe(`http://127.0.0.1:${port}/b/demo`);
    expect(first.output()).toMatch(new RegExp(`console\\s+http://127\\.0\\.0\\.1:${port}/console`));
    expect(first.output()).toMatch(/staff sign-in: owner@demo\.slotbase\.localhost \/ \S+/);
    expect(first.output()).toMatch(/demo business created/);
    const base = new URL(demoUrl!).origin;
    expect((await fetch(demoUrl!)).status).toBe(200);

    // What the demo page does: list services, fetch slots, book one.
    const services = (await (await fetch(`${base}/v1/public/demo/services`)).json()) as { data: { id: string; slug: string }[] };
    const checkup = services.data.find((s) => s.slug === 'checkup')!;
    const from = new Date(Date.now() + 86_400_000).toISOString();
    const to = new Date(Date.now() + 8 * 86_400_000).toISOString();
    const slots = (await (await fetch(`${base}/v1/public/demo/services/checkup/slots?from=${from}&to=${to}`)).json()) as { data: { starts_at: string; provider_id: string; location_id: string }[] };
    const slot = slots.data[0]!;
    const res = await fetch(`${base}/v1/public/demo/bookings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'new-user-1' },
      body: JSON.stringify({ service_id: checkup.id, starts_at: slot.starts_at, provider_id: slot.provider_id, location_id: slot.location_id, contact: { name: 'New User', email: 'new.user@example.test' } }),
    });
    expect(res.status).toBe(201);
    const receipt = (await res.json()) as { code: string; manage_token: string };

    await stopped(first);

    const second = await started();
    expect(second.output()).not.toMatch(/demo business created/); // seeded on the first run only
    const kept = await fetch(`${base}/v1/public/bookings/${receipt.code}?token=${encodeURIComponent(receipt.manage_token)}`);
    expect(kept.status).toBe(200);
    expect(await kept.json()).toMatchObject({ code: receipt.code, status: 'confirmed', starts_at: slot.starts_at });
    await stopped(second);
  }, 1_200_000);
});
