/**
 * `npm run bench -- --report [results.json]`: renders a results file (default: the newest full run
 * in bench/results/) as one self-contained HTML page with inline SVG charts — throughput vs
 * connections (HTTP vs direct SQL), available_slots latency vs table size, worker drain rates —
 * and the targets table. No scripts, no external assets: open it in any browser.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Results } from './report.ts';

interface Series {
  name: string;
  points: { x: number; y: number }[];
}

const COLORS = ['#0b57d0', '#d93025', '#188038', '#e37400', '#9334e6', '#007b83'];
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n >= 10 ? n.toFixed(1) : n.toFixed(2));

/** A line chart: x linear or log10, y linear from 0; one polyline and labelled points per series. */
function lineChart(title: string, xLabel: string, yLabel: string, series: Series[], options: { logX?: boolean } = {}): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return '';
  const W = 640, H = 320, L = 64, R = 150, T = 36, B = 48;
  const tx = (x: number) => (options.logX ? Math.log10(x) : x);
  const xs = all.map((p) => tx(p.x));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const y1 = Math.max(...all.map((p) => p.y)) * 1.1 || 1;
  const px = (x: number) => L + ((tx(x) - x0) / (x1 - x0 || 1)) * (W - L - R);
  const py = (y: number) => H - B - (y / y1) * (H - T - B);
  const ticksX = [...new Set(all.map((p) => p.x))].sort((a, b) => a - b);
  const ticksY = [0, 0.25, 0.5, 0.75, 1].map((f) => f * y1);
  const parts: string[] = [];
  parts.push(`<text x="${W / 2}" y="20" text-anchor="middle" class="t">${esc(title)}</text>`);
  for (const y of ticksY) parts.push(`<line x1="${L}" x2="${W - R}" y1="${py(y)}" y2="${py(y)}" class="grid"/><text x="${L - 6}" y="${py(y) + 4}" text-anchor="end">${fmt(y)}</text>`);
  for (const x of ticksX) parts.push(`<text x="${px(x)}" y="${H - B + 16}" text-anchor="middle">${x.toLocaleString('en-US')}</text>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">${esc(xLabel)}</text>`);
  parts.push(`<text x="14" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(T + H - B) / 2})">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((p) => `${px(p.x)},${py(p.y)}`).join(' ')}"/>`);
    for (const p of pts) parts.push(`<circle cx="${px(p.x)}" cy="${py(p.y)}" r="3.5" fill="${c}"><title>${esc(s.name)}: ${fmt(p.y)} at ${p.x.toLocaleString('en-US')}</title></circle>`);
    parts.push(`<rect x="${W - R + 12}" y="${T + i * 20}" width="12" height="12" fill="${c}"/><text x="${W - R + 30}" y="${T + i * 20 + 10}">${esc(s.name)}</text>`);
  });
  return `<figure><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">${parts.join('')}</svg></figure>`;
}

/** Grouped bars: one group per label, one bar per series. */
function barChart(title: string, yLabel: string, labels: string[], series: { name: string; values: number[] }[]): string {
  if (labels.length === 0) return '';
  const W = 640, H = 320, L = 64, R = 150, T = 36, B = 56;
  const y1 = Math.max(...series.flatMap((s) => s.values)) * 1.1 || 1;
  const groupW = (W - L - R) / labels.length;
  const barW = (groupW * 0.8) / series.length;
  const py = (y: number) => H - B - (y / y1) * (H - T - B);
  const parts: string[] = [`<text x="${W / 2}" y="20" text-anchor="middle" class="t">${esc(title)}</text>`];
  for (const f of [0, 0.25, 0.5, 0.75, 1]) parts.push(`<line x1="${L}" x2="${W - R}" y1="${py(f * y1)}" y2="${py(f * y1)}" class="grid"/><text x="${L - 6}" y="${py(f * y1) + 4}" text-anchor="end">${fmt(f * y1)}</text>`);
  labels.forEach((label, g) => {
    parts.push(`<text x="${L + g * groupW + groupW / 2}" y="${H - B + 16}" text-anchor="middle">${esc(label)}</text>`);
    series.forEach((s, i) => {
      const v = s.values[g] ?? 0;
      const x = L + g * groupW + groupW * 0.1 + i * barW;
      parts.push(`<rect x="${x}" y="${py(v)}" width="${barW - 2}" height="${H - B - py(v)}" fill="${COLORS[i % COLORS.length]}"><title>${esc(s.name)} · ${esc(label)}: ${fmt(v)}</title></rect>`);
    });
  });
  series.forEach((s, i) => parts.push(`<rect x="${W - R + 12}" y="${T + i * 20}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/><text x="${W - R + 30}" y="${T + i * 20 + 10}">${esc(s.name)}</text>`));
  parts.push(`<text x="14" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(T + H - B) / 2})">${esc(yLabel)}</text>`);
  return `<figure><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">${parts.join('')}</svg></figure>`;
}

const isError = (x: unknown): x is { error: string } => typeof x === 'object' && x !== null && 'error' in x;

export function renderHtml(r: Results, source: string): string {
  const sections: string[] = [];
  const http = r.http;
  if (http && !isError(http)) {
    for (const [key, label] of [['bookings', 'Bookings'], ['seats', 'Seat reservations']] as const) {
      const section = http[key];
      sections.push(lineChart(`${label}: calls per second vs connections`, 'connections', 'calls / s', [
        { name: 'HTTP API', points: section.pairs.map((p) => ({ x: p.connections, y: p.http.perSecond })) },
        { name: 'direct SQL', points: section.pairs.map((p) => ({ x: p.connections, y: p.sql.perSecond })) },
        { name: 'handler tx, no HTTP', points: section.pairs.map((p) => ({ x: p.connections, y: p.apiTx.perSecond })) },
      ]));
    }
  }
  const pg = r.pgbench;
  if (pg && !isError(pg) && pg.available) {
    sections.push(lineChart('The booking transaction: pgbench vs postgres.js', 'connections', 'bookings / s', [
      { name: 'pgbench (libpq)', points: pg.rows.map((row) => ({ x: row.connections, y: row.pgbench })) },
      { name: 'postgres.js', points: pg.rows.map((row) => ({ x: row.connections, y: row.postgresjs })) },
    ]));
  }
  const slots = r.availableSlots;
  if (slots && !isError(slots) && slots.samples.length > 0) {
    sections.push(lineChart('available_slots latency vs bookings in the table', 'bookings (log scale)', 'ms', [
      { name: 'p50 (rows to client)', points: slots.samples.map((s) => ({ x: s.bookings, y: s.anonFull.p50 })) },
      { name: 'p95 (rows to client)', points: slots.samples.map((s) => ({ x: s.bookings, y: s.anonFull.p95 })) },
      { name: 'p95 (count only)', points: slots.samples.map((s) => ({ x: s.bookings, y: s.anonCount.p95 })) },
    ], { logX: true }));
  }
  if (slots && !isError(slots) && slots.matrix && slots.matrix.length > 0) {
    const cells = [...new Set(slots.matrix.map((m) => `${m.providers} providers × ${m.days} days`))];
    sections.push(lineChart('available_slots p95 by providers × window vs bookings in the table', 'bookings (log scale)', 'ms', cells.map((cell) => ({
      name: cell,
      points: slots.matrix!.filter((m) => `${m.providers} providers × ${m.days} days` === cell).map((m) => ({ x: m.bookings, y: m.latency.p95 })),
    })), { logX: true }));
  }
  const worker = r.worker;
  if (Array.isArray(worker) && worker.length > 0) {
    const tasks = [...new Set(worker.flatMap((w) => w.sides.map((s) => s.task)))];
    sections.push(barChart('Worker: jobs drained per second', 'jobs / s', worker.map((w) => `c=${w.concurrency}${w.localQueue ? ` lq=${w.localQueue}` : ''}`),
      tasks.map((task) => ({ name: task, values: worker.map((w) => w.sides.find((s) => s.task === task)?.perSecond ?? 0) }))));
  }
  const targets = r.targets.map((t) => `<tr><td>${esc(t.benchmark)}</td><td>${esc(t.metric)}</td><td>${esc(t.target)}</td><td>${esc(t.value)}</td><td>${t.met === null ? '—' : t.met ? 'met' : '<strong>missed</strong>'}</td></tr>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Slotbase benchmarks — ${esc(r.date)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1b1f24}
figure{margin:1.5rem 0}svg{width:100%;height:auto;font-size:11px}svg .t{font-size:14px;font-weight:600}
svg .grid{stroke:#d0d7de;stroke-width:1}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d0d7de;padding:.35rem;text-align:left;vertical-align:top}
</style></head><body>
<h1>Slotbase benchmarks — ${esc(r.date)}${r.quick ? ' (quick)' : ''}</h1>
<p>${esc(r.machine.cpus + ' × ' + r.machine.cpuModel)}, ${r.machine.memoryGiB} GiB, ${esc(r.machine.postgres)}, Node ${esc(r.machine.node)}. From <code>${esc(source)}</code>. Absolute numbers swing on a shared machine; read the ratios.</p>
<h2>Targets</h2>
<table><thead><tr><th>benchmark</th><th>metric</th><th>target</th><th>value</th><th></th></tr></thead><tbody>${targets.join('')}</tbody></table>
<h2>Charts</h2>
${sections.join('\n') || '<p>This results file has no chartable sections.</p>'}
</body></html>
`;
}

/** Writes the HTML next to the results file and returns its path. */
export async function writeHtmlReport(file?: string): Promise<string> {
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  let source = file;
  if (!source) {
    const full = (await readdir(dir)).filter((f) => /^\d{4}-\d{2}-\d{2}\.json$/.test(f)).sort();
    const any = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
    const pick = full.at(-1) ?? any.at(-1);
    if (!pick) throw new Error('no results in bench/results/: run npm run bench first');
    source = `${dir}${pick}`;
  }
  const results = JSON.parse(await readFile(source, 'utf8')) as Results;
  const out = source.replace(/\.json$/, '.html');
  await writeFile(out, renderHtml(results, source.replace(/^.*\/bench\//, 'bench/')));
  return out;
}
