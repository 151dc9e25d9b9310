import type { ContentionResult, SlotsResult, ThroughputResult } from './booking-engine.ts';
import type { HttpResult, ThroughputSection } from './http.ts';
import type { WorkerResult } from './worker.ts';
import type { PgbenchResult } from './pgbench.ts';
import { fmtCount, fmtInt, fmtMs, fmtRatio, mdTable } from './lib/stats.ts';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  postgres: string;
  settings: Record<string, string>;
}

export interface Target {
  benchmark: string;
  metric: string;
  target: string;
  value: string;
  met: boolean | null;
}

export interface Results {
  date: string;
  startedAt: string;
  quick: boolean;
  maxBookings: number | null;
  database: string;
  machine: Machine;
  migrations: string[];
  durations: Record<string, number>;
  availableSlots: SlotsResult | { error: string } | null;
  createBooking: ThroughputResult | { error: string } | null;
  contention: ContentionResult | { error: string } | null;
  /** Absent in results written before the HTTP benchmark existed. */
  http?: HttpResult | { error: string } | null;
  /** Absent in results written before the pgbench comparison existed. */
  pgbench?: PgbenchResult | { error: string } | null;
  /** Absent in results written before the worker benchmark existed. */
  worker?: WorkerResult[] | { error: string } | null;
  targets: Target[];
}

const isError = (x: unknown): x is { error: string } => typeof x === 'object' && x !== null && 'error' in x;

export function targetsOf(r: Pick<Results, 'availableSlots' | 'createBooking' | 'contention' | 'http' | 'worker' | 'pgbench'>): Target[] {
  const t: Target[] = [];
  const s = r.availableSlots;
  if (s && !isError(s)) {
    const last = s.samples.at(-1);
    if (last) {
      t.push({
        benchmark: 'available_slots',
        metric: `p95 at ${fmtCount(last.bookings)} bookings (anon, rows to client)`,
        target: '≤ 10 ms',
        value: `${fmtMs(last.anonFull.p95)} ms`,
        met: last.anonFull.p95 <= 10,
      });
    }
    t.push({
      benchmark: 'available_slots',
      metric: s.growth ? `growth ${fmtCount(s.growth.from)} → ${fmtCount(s.growth.to)} (p50; p95 in parentheses)` : 'growth',
      target: '≤ 1.2×',
      value: s.growth ? `${fmtRatio(s.growth.p50)} (${fmtRatio(s.growth.p95)})` : 'n/a (one size only)',
      met: s.growth ? s.growth.p50 <= 1.2 : null,
    });
    const wrong = s.samples.filter((x) => x.rows !== x.expectedRows);
    t.push({
      benchmark: 'available_slots',
      metric: 'rows returned = expected (sanity)',
      target: `${s.samples[0]?.expectedRows ?? '?'} at every size`,
      value: s.samples.map((x) => x.rows).join(', '),
      met: wrong.length === 0,
    });
  } else if (isError(s)) {
    t.push({ benchmark: 'available_slots', metric: 'ran', target: 'no error', value: s.error.slice(0, 200), met: false });
  }
  const c = r.createBooking;
  if (c && !isError(c)) {
    t.push({
      benchmark: 'create_booking',
      metric: 'RLS (1 round trip) / owner throughput, 8 connections',
      target: '≥ 0.90 (overhead ≤ 10%)',
      value: `${c.ratio.toFixed(2)} (overhead ${((1 - c.ratio) * 100).toFixed(0)}%)`,
      met: c.ratio >= 0.9,
    });
    const errors = c.modes.reduce((n, m) => n + Object.values(m.errors).reduce((a, b) => a + b, 0), 0);
    t.push({ benchmark: 'create_booking', metric: 'errors on distinct slots', target: '0', value: String(errors), met: errors === 0 });
  } else if (isError(c)) {
    t.push({ benchmark: 'create_booking', metric: 'ran', target: 'no error', value: c.error.slice(0, 200), met: false });
  }
  const k = r.contention;
  if (k && !isError(k)) {
    t.push({ benchmark: 'contention', metric: 'deadlocks (40P01)', target: '0', value: String(k.deadlocks), met: k.deadlocks === 0 });
    t.push({ benchmark: 'contention', metric: 'p99 attempt latency', target: '≤ 100 ms', value: `${fmtMs(k.latency.p99)} ms`, met: k.latency.p99 <= 100 });
    t.push({
      benchmark: 'contention',
      metric: 'overlapping active claims afterwards',
      target: '0',
      value: String(k.overlappingActiveClaims),
      met: k.overlappingActiveClaims === 0,
    });
    const other = Object.values(k.otherErrors).reduce((a, b) => a + b, 0);
    t.push({ benchmark: 'contention', metric: 'errors other than slot_taken', target: '0', value: String(other), met: other === 0 });
  } else if (isError(k)) {
    t.push({ benchmark: 'contention', metric: 'ran', target: 'no error', value: k.error.slice(0, 200), met: false });
  }
  const h = r.http;
  if (h && !isError(h)) {
    const pairs = (section: ThroughputSection, name: string, goal: number) => {
      for (const p of section.pairs) {
        t.push({
          benchmark: 'http',
          metric: `${name} HTTP / direct SQL, ${p.connections} connections`,
          // The goals are set at 8 and 32 connections; one connection is latency, reported only.
          target: p.connections >= 8 ? `≥ ${goal.toFixed(2)}` : 'reported (no goal)',
          value: `${p.ratio.toFixed(2)} (${fmtInt(p.http.perSecond)} vs ${fmtInt(p.sql.perSecond)}/s)`,
          met: p.connections >= 8 ? p.ratio >= goal : null,
        });
      }
      const errors = section.pairs.reduce(
        (n, p) => n + [p.http, p.sql, p.apiTx].reduce((m, x) => m + Object.values(x.errors).reduce((a, b) => a + b, 0), 0),
        0,
      );
      t.push({ benchmark: 'http', metric: `${name}: errors`, target: '0', value: String(errors), met: errors === 0 });
    };
    pairs(h.bookings, 'bookings', 0.6);
    pairs(h.seats, 'seats', 0.5);
    const s2 = h.slots;
    if (isError(s2)) t.push({ benchmark: 'http', metric: 'slots ran', target: 'no error', value: s2.error.slice(0, 200), met: false });
    else {
      t.push({
        benchmark: 'http',
        metric: `GET …/slots p95 (${fmtInt(s2.rows)} slots, ${fmtCount(s2.bookings)} bookings) ÷ available_slots direct`,
        target: 'reported (no goal)',
        value: `${fmtMs(s2.http.p95)} ms ÷ ${fmtMs(s2.sql.p95)} ms = ${fmtRatio(s2.p95Ratio)}`,
        met: null,
      });
      t.push({
        benchmark: 'http',
        metric: 'slots returned over HTTP = expected (sanity)',
        target: String(s2.expectedRows),
        value: String(s2.rows),
        met: s2.rows === s2.expectedRows,
      });
    }
    t.push({
      benchmark: 'http',
      metric: 'API RSS: idle → after the load (peak)',
      target: 'reported (no goal)',
      value: `${h.memory.points[0]?.rssMiB.toFixed(0)} → ${h.memory.points.at(-1)?.rssMiB.toFixed(0)} MiB (peak ${h.memory.peakMiB.toFixed(0)} MiB)`,
      met: null,
    });
  } else if (isError(h)) {
    t.push({ benchmark: 'http', metric: 'ran', target: 'no error', value: h.error.slice(0, 200), met: false });
  }
  const w = r.worker;
  if (Array.isArray(w)) {
    for (const run of w) {
      const hooks = run.sides.find((x) => x.task === 'webhook_delivery');
      if (hooks) {
        t.push({
          benchmark: 'worker',
          metric: `webhook deliveries drained per second, concurrency ${run.concurrency}${run.localQueue ? `, local queue ${run.localQueue}` : ''} (÷ no-op jobs)`,
          target: '≥ 1,000/s',
          value: `${fmtInt(hooks.perSecond)}/s (${fmtRatio(hooks.vsNoop)})`,
          met: hooks.perSecond >= 1000,
        });
      }
      for (const side of run.sides) {
        if (side.delivered !== side.jobs) {
          t.push({ benchmark: 'worker', metric: `${side.task}: sink saw every job once`, target: String(side.jobs), value: String(side.delivered), met: false });
        }
      }
    }
  } else if (isError(w)) {
    t.push({ benchmark: 'worker', metric: 'ran', target: 'no error', value: w.error.slice(0, 200), met: false });
  }
  return t;
}

function renderPgbench(p: PgbenchResult | { error: string } | null): string[] {
  if (!p) return [];
  if (isError(p)) return ['## pgbench vs postgres.js', '', `failed: ${p.error}`, ''];
  if (!p.available) return ['## pgbench vs postgres.js', '', `skipped: ${p.reason}`, ''];
  return [
    '## pgbench vs postgres.js',
    '',
    `The public booking transaction (begin; role anon + claims; create_booking on a distinct slot; commit), ${p.seconds} s per side, ${p.version}. pgbench sends four statements; postgres.js pipelines them in one round trip, as the API does.`,
    '',
    mdTable(['connections', 'pgbench bookings/s', 'postgres.js bookings/s', 'postgres.js ÷ pgbench', 'pgbench failed', 'postgres.js errors'],
      p.rows.map((r) => [String(r.connections), fmtInt(r.pgbench), fmtInt(r.postgresjs), fmtRatio(r.ratio), String(r.pgbenchFailed), String(r.postgresjsErrors)])),
    '',
  ];
}

function renderWorker(w: WorkerResult[] | { error: string } | null): string[] {
  if (!w) return [];
  if (isError(w)) return ['## Worker drain rate', '', `failed: ${w.error}`, ''];
  const rows = w.flatMap((run) =>
    run.sides.map((s) => [String(run.concurrency), String(run.localQueue ?? 0), s.task, fmtInt(s.jobs), s.seconds.toFixed(2), fmtInt(s.perSecond), fmtRatio(s.vsNoop), fmtInt(s.delivered)]),
  );
  return [
    '## Worker drain rate',
    '',
    'One worker process, real tasks, local sinks (HTTP 204 receiver; SMTP server accepting all). Baseline: a no-op task, same run.',
    '',
    mdTable(['concurrency', 'local queue', 'task', 'jobs', 'seconds', 'jobs/s', '÷ no-op', 'sink saw'], rows),
    '',
  ];
}

/** The statements of an auto_explain capture, slowest first: "12.3 ms — with svc as materialized (…". */
export function topStatements(plans: string[], limit = 8): string[] {
  const rows = plans
    .map((p) => {
      const ms = Number(/duration: ([\d.]+) ms/.exec(p)?.[1] ?? Number.NaN);
      const text = (p.split('Query Text:')[1] ?? '').trim().replace(/\s+/g, ' ').slice(0, 110);
      return { ms, text };
    })
    .filter((r) => Number.isFinite(r.ms))
    .sort((a, b) => b.ms - a.ms);
  return rows.slice(0, limit).map((r) => `${r.ms.toFixed(1)} ms — \`${r.text.replace(/`/g, "'")}\``);
}

const yes = (m: boolean | null) => (m === null ? '–' : m ? '✅ met' : '❌ missed');

export function renderMarkdown(r: Results): string {
  const out: string[] = [];
  out.push(`# Booking engine benchmark — ${r.date}${r.quick ? ' (quick)' : ''}`);
  out.push('');
  out.push(
    `Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, ${r.machine.os}; Node ${r.machine.node}; ` +
      `${r.machine.postgres}. Settings: ${Object.entries(r.machine.settings)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}. The machine is noisy: read the ratios, not the absolutes.`,
  );
  out.push('');
  out.push(`Total ${r.durations.total?.toFixed(0)} s (${Object.entries(r.durations).filter(([k]) => k !== 'total').map(([k, v]) => `${k} ${v.toFixed(0)} s`).join(', ')}).`);
  out.push('');
  out.push('## Targets');
  out.push('');
  out.push(mdTable(['benchmark', 'metric', 'target', 'measured', ''], r.targets.map((t) => [t.benchmark, t.metric, t.target, t.value, yes(t.met)])));
  out.push('');

  const s = r.availableSlots;
  out.push('## 1. available_slots latency vs. table size');
  out.push('');
  if (isError(s)) out.push(`Failed: \`${s.error}\``);
  else if (s) {
    out.push(
      `${s.providers} providers × ${s.days} days × ${s.stepMinutes}-min steps (08:00–18:00 daily, ${s.timeZone}), ` +
        `window ${s.windowFrom} → ${s.windowTo}, called as **anon** on a public service. ` +
        `"rows to client" = \`select *\` with every row sent (postgres.js \`.raw()\`, no type parsing); ` +
        `"count(*)" = the server's share; "owner" = superuser, RLS bypassed. History loaded with triggers off ` +
        `(session_replication_role = replica), then VACUUM ANALYZE.`,
    );
    out.push('');
    if (s.matrix && s.matrix.length > 0) {
      const sizes = [...new Set(s.matrix.map((m) => m.bookings))];
      const cells = [...new Set(s.matrix.map((m) => `${m.providers}×${m.days}`))];
      out.push('Provider × window matrix, p95 ms (anon, rows to client; slots returned in parentheses):', '');
      out.push(mdTable(['bookings', ...cells.map((c) => `${c.replace('×', ' providers × ')} days`)],
        sizes.map((b) => [fmtCount(b), ...cells.map((c) => {
          const m = s.matrix!.find((x) => x.bookings === b && `${x.providers}×${x.days}` === c);
          return m ? `${fmtMs(m.latency.p95)} (${fmtInt(m.rows)})` : '—';
        })])));
      out.push('');
    }
    const base = s.samples[0];
    out.push(
      mdTable(
        ['bookings', 'active claims of the 5 providers', 'rows', 'anon p50', 'anon p95', 'anon p99', 'vs first (p50)', 'count(*) p50 / p95', 'owner count(*) p50', 'RLS / owner (count p50)', 'load'],
        s.samples.map((x) => [
          fmtCount(x.bookings),
          fmtInt(x.providerClaims),
          fmtInt(x.rows),
          `${fmtMs(x.anonFull.p50)} ms`,
          `${fmtMs(x.anonFull.p95)} ms`,
          `${fmtMs(x.anonFull.p99)} ms`,
          base ? fmtRatio(x.anonFull.p50 / base.anonFull.p50) : 'n/a',
          `${fmtMs(x.anonCount.p50)} / ${fmtMs(x.anonCount.p95)} ms`,
          `${fmtMs(x.ownerCount.p50)} ms`,
          fmtRatio(x.anonCount.p50 / x.ownerCount.p50),
          x.load ? `+${fmtInt(x.load.added)} in ${x.load.seconds.toFixed(1)} s + vacuum ${x.load.vacuumAnalyzeSeconds.toFixed(1)} s` : '',
        ]),
      ),
    );
    out.push('');
    if (s.growth) {
      out.push(
        `Growth ${fmtCount(s.growth.from)} → ${fmtCount(s.growth.to)}: p50 ${fmtRatio(s.growth.p50)}, p95 ${fmtRatio(s.growth.p95)} ` +
          `(count(*): p50 ${fmtRatio(s.growth.countP50)}, p95 ${fmtRatio(s.growth.countP95)}). Samples per size: ${s.samples.map((x) => x.anonFull.n).join(', ')}.`,
      );
      out.push('');
    }
    if (s.skipped.length) out.push(`Skipped sizes: ${s.skipped.join('; ')}.`, '');
    if (s.filledColumns.length) out.push(`Loader filled by type: ${s.filledColumns.join(', ')}.`, '');
    const missed = r.targets.some((t) => t.benchmark === 'available_slots' && t.met === false);
    if (missed) {
      for (const x of s.samples) {
        out.push(`<details><summary>EXPLAIN (ANALYZE, BUFFERS) as anon at ${fmtCount(x.bookings)} bookings</summary>`, '', '```', x.explain, '```', '', '</details>', '');
      }
      for (const n of s.nestedPlans) {
        out.push(`Slowest statements as ${n.caller} at ${fmtCount(n.bookings)} (auto_explain, nested ones included; totals include children):`, '');
        out.push(...topStatements(n.plans).map((l) => `- ${l}`), '');
        out.push(`<details><summary>auto_explain of the function body as ${n.caller} at ${fmtCount(n.bookings)} bookings</summary>`, '', '```', ...n.plans, '```', '', '</details>', '');
      }
    }
  }

  const c = r.createBooking;
  out.push('## 2. create_booking throughput (8 connections, distinct slots)');
  out.push('');
  if (isError(c)) out.push(`Failed: \`${c.error}\``);
  else if (c) {
    const owner = c.modes.find((m) => m.mode === 'owner');
    out.push(
      `${c.connections} connections, ${c.providers} providers (8 per connection, no contention), ${c.rounds} rounds × ${c.roundSeconds} s per mode, ` +
        `modes interleaved per round; ratio = median over rounds of the per-round ratio. Owner modes carry the same claims at session level, so the function runs the same staff path.`,
    );
    out.push('');
    out.push(
      mdTable(
        ['mode', 'calls/s', 'vs owner', 'p50', 'p99', 'calls', 'errors', 'what'],
        c.modes.map((m) => [
          m.mode,
          fmtInt(m.perSecond),
          owner ? fmtRatio(m.perSecond / owner.perSecond) : '',
          `${fmtMs(m.latency.p50)} ms`,
          `${fmtMs(m.latency.p99)} ms`,
          fmtInt(m.calls),
          Object.keys(m.errors).length ? Object.entries(m.errors).map(([k, v]) => `${k}×${v}`).join(' ') : '0',
          m.description,
        ]),
      ),
    );
    out.push('');
    out.push(
      `RLS (1 round trip) / owner: **${c.ratio.toFixed(2)}**; RLS / owner with the same transaction shape: ${c.ratioSameShape.toFixed(2)}; ` +
        `RLS with 3 round trips / owner: ${c.ratio3rt.toFixed(2)}.`,
    );
    out.push('');
    for (const m of c.modes.filter((m) => m.firstError)) out.push(`First error in ${m.mode}: \`${JSON.stringify(m.firstError)}\``, '');
    if (c.nestedPlans.length) out.push('Slowest statements of one call:', '', ...topStatements(c.nestedPlans).map((l) => `- ${l}`), '');
    if (c.nestedPlans.length) out.push('<details><summary>auto_explain of one create_booking</summary>', '', '```', ...c.nestedPlans, '```', '', '</details>', '');
  }

  const k = r.contention;
  out.push('## 3. Contention: 32 connections racing for 20 slots of one provider');
  out.push('');
  if (isError(k)) out.push(`Failed: \`${k.error}\``);
  else if (k) {
    out.push(`Caller: ${k.caller}. Reset between rounds: ${k.resetMethod}.`);
    out.push('');
    out.push(
      mdTable(
        ['attempts/s', 'attempts', 'booked', 'slot_taken', '40P01 deadlocks', 'other errors', 'p50', 'p99', 'max', 'rounds', 'overlaps'],
        [
          [
            fmtInt(k.attemptsPerSecond),
            fmtInt(k.attempts),
            fmtInt(k.successes),
            fmtInt(k.slotTaken),
            String(k.deadlocks),
            Object.keys(k.otherErrors).length ? Object.entries(k.otherErrors).map(([c2, v]) => `${c2}×${v}`).join(' ') : '0',
            `${fmtMs(k.latency.p50)} ms`,
            `${fmtMs(k.latency.p99)} ms`,
            `${fmtMs(k.latency.max)} ms`,
            `${k.rounds}${k.incompleteRounds ? ` (${k.incompleteRounds} incomplete)` : ''}`,
            String(k.overlappingActiveClaims),
          ],
        ],
      ),
    );
    out.push('');
    out.push(
      `Baseline (DESIGN §12, same machine): without a per-subject lock 25 attempts/s, 93 deadlocks, p99 10 s; with it 2,115 attempts/s, p99 23 ms. ` +
        `Here: ${fmtInt(k.attemptsPerSecond)} attempts/s = ${fmtRatio(k.attemptsPerSecond / 2115)} of the locked reference; p99 ${fmtRatio(k.latency.p99 / 23)} of it.`,
    );
    out.push('');
    const totalWaits = Object.values(k.waits).reduce((a, b) => a + b, 0);
    if (totalWaits > 0) {
      out.push(
        `Where racing backends were (pg_stat_activity samples every 100 ms): ` +
          Object.entries(k.waits)
            .sort((a, b) => b[1] - a[1])
            .map(([w, n]) => `${w} ${((n / totalWaits) * 100).toFixed(0)}%`)
            .join(', ') +
          '.',
      );
      out.push('');
    }
    if (k.firstDeadlock) out.push(`First deadlock: \`${JSON.stringify(k.firstDeadlock)}\``, '');
    if (k.firstOtherError) out.push(`First other error: \`${JSON.stringify(k.firstOtherError)}\``, '');
    if (k.nestedPlans.length) out.push('Slowest statements of one uncontended call (warm session):', '', ...topStatements(k.nestedPlans).map((l) => `- ${l}`), '');
    if (k.nestedPlans.length) out.push('<details><summary>auto_explain of one uncontended create_booking as anon</summary>', '', '```', ...k.nestedPlans, '```', '', '</details>', '');
  }
  if (r.http !== undefined) out.push(...renderHttp(r.http));
  if (r.pgbench !== undefined) out.push(...renderPgbench(r.pgbench));
  if (r.worker !== undefined) out.push(...renderWorker(r.worker));
  return out.join('\n');
}

function renderHttp(h: HttpResult | { error: string } | null): string[] {
  const out: string[] = [];
  out.push('## 4. HTTP API vs. direct SQL');
  out.push('');
  if (isError(h)) {
    out.push(`Failed: \`${h.error}\``);
    return out;
  }
  if (!h) return out;
  out.push(
    `API: ${h.server.command}, as a ${h.server.process} on 127.0.0.1 — ${h.server.why}. Its pool: ${h.server.poolMax} connections as slotbase_api ` +
      `(src/server.ts). ${h.server.rateLimits}. Load: autocannon in the bench process. Direct SQL: postgres.js in the bench process, ` +
      `as many connections as HTTP connections. Ratio = median over rounds of HTTP ÷ SQL calls/s; each round runs both back to back.`,
  );
  out.push('');
  for (const [title, section] of [['Bookings', h.bookings], ['Seats', h.seats]] as const) {
    out.push(
      `**${title}.** ${section.what}. HTTP: ${section.httpRequest}. SQL: ${section.sqlCall}. "Handler tx": ${section.apiTxCall}. ` +
        `${section.rounds} rounds × ${section.roundSeconds} s per side, the three sides rotating.`,
    );
    out.push('');
    out.push(
      mdTable(
        ['connections', 'HTTP calls/s', 'SQL calls/s', 'HTTP ÷ SQL', 'handler tx calls/s', 'handler tx ÷ SQL', 'HTTP ÷ handler tx', 'HTTP p50 / p99', 'SQL p50 / p99', 'handler tx p50 / p99', 'API pool connections busy (max)', 'errors (HTTP / SQL / tx)'],
        section.pairs.map((p) => [
          p.connections,
          fmtInt(p.http.perSecond),
          fmtInt(p.sql.perSecond),
          `**${p.ratio.toFixed(2)}**`,
          fmtInt(p.apiTx.perSecond),
          p.apiTxRatio.toFixed(2),
          p.httpOverApiTx.toFixed(2),
          `${fmtMs(p.http.latency.p50)} / ${fmtMs(p.http.latency.p99)} ms`,
          `${fmtMs(p.sql.latency.p50)} / ${fmtMs(p.sql.latency.p99)} ms`,
          `${fmtMs(p.apiTx.latency.p50)} / ${fmtMs(p.apiTx.latency.p99)} ms`,
          p.apiConnectionsSeen,
          `${errorText(p.http.errors)} / ${errorText(p.sql.errors)} / ${errorText(p.apiTx.errors)}`,
        ]),
      ),
    );
    out.push('');
    for (const p of section.pairs) {
      if (p.http.firstError) out.push(`First HTTP error at ${p.connections}: \`${p.http.firstError}\``, '');
      if (p.sql.firstError) out.push(`First SQL error at ${p.connections}: \`${p.sql.firstError}\``, '');
      if (p.apiTx.firstError) out.push(`First handler-tx error at ${p.connections}: \`${p.apiTx.firstError}\``, '');
    }
  }
  const s = h.slots;
  if (isError(s)) out.push(`**Slots** failed: \`${s.error}\``, '');
  else {
    out.push(
      `**Public slots.** \`GET ${s.url.split('?')[0]}\` for ${s.providers} providers × ${s.days} days (15-min steps), ${fmtInt(s.rows)} slots ` +
        `(${(s.responseBytes / 1024 / 1024).toFixed(1)} MiB of JSON), ${fmtCount(s.bookings)} bookings in the table (the slots benchmark's --quick size), ` +
        `one client, alternating with \`select * from slotbase.available_slots(…)\` as anon (rows to the client, no parsing).`,
    );
    out.push('');
    out.push(
      mdTable(
        ['', 'p50', 'p95', 'p99', 'samples'],
        [
          ['HTTP', `${fmtMs(s.http.p50)} ms`, `${fmtMs(s.http.p95)} ms`, `${fmtMs(s.http.p99)} ms`, s.http.n],
          ['SQL', `${fmtMs(s.sql.p50)} ms`, `${fmtMs(s.sql.p95)} ms`, `${fmtMs(s.sql.p99)} ms`, s.sql.n],
          ['HTTP ÷ SQL', fmtRatio(s.p50Ratio), fmtRatio(s.p95Ratio), '', ''],
        ],
      ),
    );
    out.push('');
  }
  out.push(
    `**API memory** (VmRSS of the API process): ${h.memory.points.map((p) => `${p.at} ${p.rssMiB.toFixed(1)} MiB`).join('; ')}. ` +
      `Change over the run ${h.memory.deltaMiB >= 0 ? '+' : ''}${h.memory.deltaMiB.toFixed(1)} MiB; peak (VmHWM) ${h.memory.peakMiB.toFixed(1)} MiB.`,
  );
  out.push('');
  return out;
}

function errorText(errors: Record<string, number>): string {
  return Object.keys(errors).length ? Object.entries(errors).map(([k, v]) => `${k}×${v}`).join(' ') : '0';
}
