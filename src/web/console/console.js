// Slotbase staff console. Plain browser JavaScript (an ES module), no framework, no build step.
// Everything goes through the published API via the client generated from openapi/openapi.json:
// the console has no private endpoints, so what a member sees is what row-level security lets
// their token see. Views: calendar (day/week, per branch and provider), new booking, dashboard,
// settings. Native form controls and tables, labels everywhere, one polite live region.
import * as api from './api-client.js';

const main = document.getElementById('main');
const top = document.getElementById('top');
const live = document.getElementById('live');
const STORE = 'slotbase.console.session';

// ---------- small helpers (same shapes as src/web/static/booking.js) ----------
const h = (tag, attrs = {}, ...children) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
};
const svg = (tag, attrs = {}, ...children) => {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
};
const announce = (message) => { live.textContent = ''; setTimeout(() => { live.textContent = message; }, 20); };
const fmt = (iso, zone, opts) => new Intl.DateTimeFormat('en-GB', { timeZone: zone, ...opts }).format(new Date(iso));
const timeOf = (iso, zone) => fmt(iso, zone, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const dateLong = (iso, zone) => fmt(iso, zone, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const dateShort = (day) => new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short' }).format(new Date(`${day}T12:00:00Z`));
/** YYYY-MM-DD of an instant in a zone. */
const ymd = (date, zone) => {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(date).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}`;
};
/** Minutes since local midnight of an instant in a zone. */
const minutesOf = (iso, zone) => {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return Number(p.hour) * 60 + Number(p.minute);
};
/** The UTC instant of local wall-clock `day` + `hhmm` in `zone` (two passes settle DST edges). */
const instant = (day, hhmm, zone) => {
  const wall = new Date(`${day}T${hhmm}:00Z`).getTime();
  let guess = wall;
  for (let i = 0; i < 2; i++) {
    const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(guess)).map((x) => [x.type, x.value]));
    const seen = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
    guess += wall - seen;
  }
  return new Date(guess);
};
const midnight = (day, zone) => instant(day, '00:00', zone);
const addDays = (day, n) => {
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
};
const mondayOf = (day) => addDays(day, -((new Date(`${day}T12:00:00Z`).getUTCDay() + 6) % 7));
const hhmm = (minutes) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
const pct = (x) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`);
const STATUS_LABEL = { held: 'held', pending: 'awaiting approval', confirmed: 'confirmed', completed: 'completed', no_show: 'no-show', cancelled: 'cancelled', rejected: 'rejected', expired: 'expired' };
const ACTIVE = ['held', 'pending', 'confirmed'];

/** A problem+json answer, shown where the action happened. */
const problemBox = (problem) => h('div', { class: 'problem', role: 'alert' },
  h('p', {}, h('strong', {}, problem.title || 'Something went wrong'), ' ', h('code', { class: 'code' }, problem.code || `http_${problem.status}`)),
  problem.detail ? h('p', {}, problem.detail) : null,
  Array.isArray(problem.errors) && problem.errors.length
    ? h('ul', {}, problem.errors.map((e) => h('li', {}, h('code', {}, e.field), `: ${e.message}`)))
    : null);

// ---------- session: login, refresh on invalid_token, logout ----------
// Two ways to sign in. By default the API's own: POST /v1/auth/login, tokens kept here. When the
// server names a Supabase project (meta tags, and supabase-js loaded before this module), staff
// sign in through that project's Auth with supabase-js, which keeps and refreshes the session;
// every API call then carries the Supabase access token and names the business it acts in
// (X-Slotbase-Tenant), and the API maps the Supabase user to its Slotbase membership.
const metaContent = (name) => (document.querySelector(`meta[name="${name}"]`) || { content: '' }).content;
const sb = (() => {
  const url = metaContent('slotbase-supabase-url');
  const key = metaContent('slotbase-supabase-anon-key');
  if (!url || !key || !globalThis.supabase) return null;
  return globalThis.supabase.createClient(url, key, {
    auth: { storage: sessionStorage, storageKey: 'slotbase.console.supabase', persistSession: true, autoRefreshToken: true, detectSessionInUrl: false },
  });
})();
const TENANT_HEADER = 'x-slotbase-tenant';

let session = null;
try { session = JSON.parse(sessionStorage.getItem(STORE) || 'null'); } catch { session = null; }
if (session && Boolean(session.via === 'supabase') !== Boolean(sb)) session = null; // the server's sign-in changed
const saveSession = (s) => { session = s; if (s) sessionStorage.setItem(STORE, JSON.stringify(s)); else sessionStorage.removeItem(STORE); };
let refreshing = null;
/** Refresh tokens are single-use (reuse ends the login): concurrent callers share one refresh. */
const refresh = () => {
  if (!refreshing) {
    const used = session && session.refresh_token;
    refreshing = (async () => {
      if (sb) {
        const { data, error } = await sb.auth.refreshSession();
        return !error && Boolean(data.session);
      }
      if (!used) return false;
      const res = await api.refreshSession({ body: { refresh_token: used } });
      if (!res.ok) return false;
      saveSession({ ...res.data });
      return true;
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
};
/** The access token to send: ours, or the Supabase session's (supabase-js refreshes one about to expire). */
const accessToken = async () => {
  if (!sb) return session.access_token;
  const { data } = await sb.auth.getSession();
  return data.session ? data.session.access_token : null;
};
/** With Supabase sign-in, every call names the business it acts in. */
const withTenant = (args) => (sb && session && session.tenant
  ? { ...args, headers: { ...args.headers, [TENANT_HEADER]: session.tenant.slug } }
  : args);
const ended = () => ({ ok: false, status: 401, problem: { title: 'Your session has ended', code: 'unauthenticated', status: 401 } });
/** Calls an operation with the member's token; on 401 invalid_token refreshes once and retries. */
const authed = async (fn, args = {}) => {
  if (!session) return { ok: false, status: 401, problem: { title: 'Sign in first', code: 'unauthenticated', status: 401 } };
  const call = async () => {
    const token = await accessToken();
    return token ? fn({ ...withTenant(args), token }) : null;
  };
  let res = await call();
  if (res && !res.ok && res.status === 401 && res.problem.code === 'invalid_token') {
    res = (await refresh()) ? await call() : null;
  }
  if (!res) { saveSession(null); loginView('Your session has ended. Please sign in again.'); return ended(); }
  return res;
};
/** Every page of a cursor-paginated list. */
const all = async (fn, query = {}) => {
  const rows = [];
  let cursor;
  for (let page = 0; page < 100; page++) {
    const res = await authed(fn, { query: { ...query, limit: 200, ...(cursor ? { cursor } : {}) } });
    if (!res.ok) return res;
    rows.push(...res.data.data);
    cursor = res.data.next_cursor;
    if (!cursor) break;
  }
  return { ok: true, status: 200, data: rows };
};

// ---------- what every view needs: the catalog as this member sees it ----------
const catalog = { loaded: false, locations: [], providers: [], services: [] };
const loadCatalog = async () => {
  const [locations, providers, services] = await Promise.all([all(api.listLocations), all(api.listProviders), all(api.listServices)]);
  catalog.locations = locations.ok ? locations.data : [];
  catalog.providers = providers.ok ? providers.data : [];
  catalog.services = services.ok ? services.data : [];
  catalog.loaded = true;
  // A member scoped to one branch (or a business with one) works in that branch.
  if (catalog.locations.length === 1) cal.location = catalog.locations[0].id;
};
const byId = (list, id) => list.find((x) => x.id === id);
const nameOf = (list, id, fallback = '—') => (byId(list, id) || {}).name || fallback;
const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

// Calendar state survives switching views.
const cal = { view: 'day', day: null, location: '', provider: '', closed: false, selected: null };
const zoneOf = (locationId) => (byId(catalog.locations, locationId) || catalog.locations[0] || { time_zone: browserZone }).time_zone;

// ---------- chrome ----------
const VIEWS = [['calendar', 'Calendar'], ['new', 'New booking'], ['dashboard', 'Dashboard'], ['settings', 'Settings']];
const renderTop = (current) => {
  top.replaceChildren(h('p', { class: 'brand' }, 'Slotbase console'));
  if (!session) return;
  const t = session.tenant;
  top.append(
    h('nav', { 'aria-label': 'Console' }, h('ul', {}, VIEWS.map(([id, label]) => h('li', {}, h('a', { href: `#${id}`, 'aria-current': id === current ? 'page' : undefined }, label))))),
    h('div', { class: 'who' },
      h('span', {}, t ? `${t.name} · ${t.role}` : 'No business'), ' ',
      h('span', { class: 'muted' }, session.user.email), ' ',
      h('button', { type: 'button', onclick: signOut }, 'Sign out')),
  );
};
const signOut = async () => {
  const token = session && session.refresh_token;
  saveSession(null);
  if (sb) await sb.auth.signOut().catch(() => undefined);
  else if (token) await api.logout({ body: { refresh_token: token } }).catch(() => undefined);
  location.hash = '';
  loginView('You are signed out.');
};
const show = (title, ...content) => {
  main.replaceChildren(h('h1', { id: 'view-title' }, title), ...content.filter(Boolean));
  document.title = `${title} — Slotbase console`;
};

// ---------- login ----------
const loginView = (message) => {
  renderTop();
  const status = h('div', { class: 'form-status' });
  const form = h('form', { class: 'card login', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'login-email' }, 'Email'), h('input', { id: 'login-email', type: 'email', autocomplete: 'username', required: true })),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, 'Password'), h('input', { id: 'login-password', type: 'password', autocomplete: 'current-password', required: true })),
    h('div', { class: 'field' }, h('label', { for: 'login-tenant' }, 'Business (optional)'), h('input', { id: 'login-tenant', autocomplete: 'organization', placeholder: 'sunrise-clinic' }),
      h('p', { class: 'hint' }, 'Its short name, when you work for more than one.')),
    sb ? h('p', { class: 'hint' }, 'You sign in with your Supabase account.') : null,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    status.replaceChildren();
    const tenant = form.querySelector('#login-tenant').value.trim();
    const email = form.querySelector('#login-email').value.trim();
    const password = form.querySelector('#login-password').value;
    if (sb) {
      const problem = await supabaseSignIn(email, password, tenant);
      if (problem) { status.append(problemBox(problem)); return; }
    } else {
      const res = await api.login({ body: { email, password, ...(tenant ? { tenant } : {}) } });
      if (!res.ok) { status.append(problemBox(res.problem)); return; }
      saveSession(res.data);
    }
    catalog.loaded = false;
    announce(`Signed in as ${session.user.email}`);
    if (location.hash !== '#calendar') location.hash = '#calendar';
    else route();
  });
  show('Sign in', message ? h('p', { class: 'notice', role: 'status' }, message) : null, form);
  form.querySelector('#login-email').focus();
};

/**
 * Supabase sign-in: supabase-js signs in, then the API says which business and member that
 * account is (it links the Supabase user to the member with its confirmed email on first use).
 * Returns a problem to show, or null.
 */
const supabaseSignIn = async (email, password, tenant) => {
  const { data, error } = await sb.auth.signInWithPassword({ email, password });
  if (error || !data.session) return { title: (error && error.message) || 'Sign-in failed', code: (error && error.code) || 'invalid_credentials', status: (error && error.status) || 400 };
  const token = data.session.access_token;
  const headers = tenant ? { [TENANT_HEADER]: tenant } : {};
  const [t, me] = await Promise.all([api.getTenant({ token, headers }), api.getMe({ token, headers })]);
  if (!t.ok || !me.ok) {
    await sb.auth.signOut().catch(() => undefined);
    return (t.ok ? me : t).problem;
  }
  const members = await api.listMembers({ token, headers: { [TENANT_HEADER]: t.data.slug }, query: { limit: 200 } });
  const mine = members.ok ? members.data.data.find((m) => m.user_id === me.data.id) : undefined;
  saveSession({ via: 'supabase', user: { id: me.data.id, email: me.data.email }, tenant: { id: t.data.id, slug: t.data.slug, name: t.data.name, role: mine ? mine.role : 'member' } });
  return null;
};

// ---------- calendar ----------
const calendarView = async () => {
  const zone = zoneOf(cal.location);
  cal.day = cal.day || ymd(new Date(), zone);
  const controls = h('form', { class: 'controls', 'aria-label': 'Calendar filters', onsubmit: (e) => e.preventDefault() });
  const body = h('div', { class: 'calendar-body' });
  const detail = h('section', { class: 'detail', id: 'detail', 'aria-labelledby': 'detail-title', hidden: true });
  show('Calendar', controls, h('div', { class: 'calendar-layout' }, body, detail));

  const select = (id, label, options, value, onchange) => h('div', { class: 'field' }, h('label', { for: id }, label),
    h('select', { id, onchange: (e) => onchange(e.target.value) }, options.map(([v, l]) => h('option', { value: v, selected: v === value }, l))));
  const providersHere = () => catalog.providers.filter((p) => !cal.location || p.location_id === cal.location);
  const renderControls = () => {
    controls.replaceChildren(
      h('fieldset', { class: 'segmented' }, h('legend', {}, 'View'),
        ['day', 'week'].map((v) => h('label', {}, h('input', { type: 'radio', name: 'view', value: v, checked: cal.view === v, onchange: () => { cal.view = v; load(); } }), v === 'day' ? 'Day' : 'Week'))),
      h('div', { class: 'field day-nav' },
        h('button', { type: 'button', 'aria-label': cal.view === 'day' ? 'Previous day' : 'Previous week', onclick: () => { cal.day = addDays(cal.day, cal.view === 'day' ? -1 : -7); load(); } }, '‹'),
        h('label', { for: 'cal-day' }, 'Date'),
        h('input', { id: 'cal-day', type: 'date', value: cal.day, onchange: (e) => { if (e.target.value) { cal.day = e.target.value; load(); } } }),
        h('button', { type: 'button', 'aria-label': cal.view === 'day' ? 'Next day' : 'Next week', onclick: () => { cal.day = addDays(cal.day, cal.view === 'day' ? 1 : 7); load(); } }, '›'),
        h('button', { type: 'button', onclick: () => { cal.day = ymd(new Date(), zoneOf(cal.location)); load(); } }, 'Today')),
      select('cal-location', 'Branch', [...(catalog.locations.length === 1 ? [] : [['', 'All branches']]), ...catalog.locations.map((l) => [l.id, l.name])], cal.location,
        (v) => { cal.location = v; if (cal.provider && !providersHere().some((p) => p.id === cal.provider)) cal.provider = ''; load(); }),
      select('cal-provider', 'Provider', [['', 'All providers'], ...providersHere().map((p) => [p.id, p.name])], cal.provider, (v) => { cal.provider = v; load(); }),
      h('div', { class: 'field check' }, h('input', { id: 'cal-closed', type: 'checkbox', checked: cal.closed, onchange: (e) => { cal.closed = e.target.checked; load(); } }),
        h('label', { for: 'cal-closed' }, 'Show cancelled, rejected and expired')),
    );
  };

  let seq = 0;
  const load = async () => {
    const mine = ++seq;
    renderControls();
    const zone = zoneOf(cal.location);
    const first = cal.view === 'day' ? cal.day : mondayOf(cal.day);
    const days = cal.view === 'day' ? [first] : Array.from({ length: 7 }, (_, i) => addDays(first, i));
    body.replaceChildren(h('p', { role: 'status' }, 'Loading bookings…'));
    const query = {
      from: midnight(days[0], zone).toISOString(),
      to: midnight(addDays(days[days.length - 1], 1), zone).toISOString(),
      ...(cal.location ? { location: cal.location } : {}),
      ...(cal.provider ? { provider: cal.provider } : {}),
      ...(cal.closed ? {} : { status: ['held', 'pending', 'confirmed', 'completed', 'no_show'] }),
    };
    const res = await all(api.listBookings, query);
    if (mine !== seq) return;
    if (!res.ok) { body.replaceChildren(problemBox(res.problem)); return; }
    const bookings = res.data;
    const columns = cal.provider ? catalog.providers.filter((p) => p.id === cal.provider) : providersHere();
    for (const b of bookings) if (!columns.some((p) => p.id === b.provider_id)) columns.push(byId(catalog.providers, b.provider_id) || { id: b.provider_id, name: 'Unknown provider' });
    const zoneNote = h('p', { class: 'muted' }, `Times in ${zone}. ${bookings.length} booking${bookings.length === 1 ? '' : 's'}.`);
    body.replaceChildren(zoneNote, cal.view === 'day' ? dayGrid(days[0], zone, columns, bookings) : weekGrid(days, zone, columns, bookings));
  };

  const chip = (b, zone, withTime = true) => h('button', {
    type: 'button', class: `booking s-${b.status}`, 'data-booking-id': b.id, 'aria-pressed': cal.selected === b.id ? 'true' : 'false',
    onclick: () => openDetail(b.id),
  }, withTime ? h('span', { class: 'when' }, `${timeOf(b.starts_at, zone)}–${timeOf(b.ends_at, zone)}`) : null,
  h('span', { class: 'who' }, b.contact_name),
  h('span', { class: 'what' }, `${nameOf(catalog.services, b.service_id, 'Service')} · ${STATUS_LABEL[b.status] || b.status}`));

  /** Time rows (30 minutes) × provider columns, in the branch's zone. */
  const dayGrid = (day, zone, columns, bookings) => {
    const starts = bookings.map((b) => ({ b, m: ymd(new Date(b.starts_at), zone) === day ? minutesOf(b.starts_at, zone) : 0 }));
    let from = 8 * 60;
    let to = 18 * 60;
    for (const { b, m } of starts) {
      from = Math.min(from, Math.floor(m / 30) * 30);
      const end = ymd(new Date(b.ends_at), zone) === day ? minutesOf(b.ends_at, zone) : 24 * 60;
      to = Math.max(to, Math.ceil(end / 30) * 30);
    }
    if (columns.length === 0) return h('p', { class: 'empty' }, 'No providers in this view.');
    const rows = [];
    for (let m = from; m < to; m += 30) {
      rows.push(h('tr', {}, h('th', { scope: 'row', class: 'time' }, hhmm(m)),
        columns.map((p) => h('td', {}, starts.filter((s) => s.b.provider_id === p.id && s.m >= m && s.m < m + 30).map((s) => chip(s.b, zone))))));
    }
    return h('div', { class: 'grid-wrap' }, h('table', { class: 'grid day' },
      h('caption', {}, `${dateLong(midnight(day, zone).toISOString(), zone)}${cal.location ? ` · ${nameOf(catalog.locations, cal.location)}` : ''}`),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Time')), columns.map((p) => h('th', { scope: 'col' }, p.name)))),
      h('tbody', {}, rows)));
  };

  /** Provider rows × day columns. */
  const weekGrid = (days, zone, columns, bookings) => h('div', { class: 'grid-wrap' }, h('table', { class: 'grid week' },
    h('caption', {}, `Week of ${dateLong(midnight(days[0], zone).toISOString(), zone)}${cal.location ? ` · ${nameOf(catalog.locations, cal.location)}` : ''}`),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Provider'), days.map((d) => h('th', { scope: 'col' }, h('button', { type: 'button', class: 'link', onclick: () => { cal.day = d; cal.view = 'day'; load(); } }, dateShort(d)))))),
    h('tbody', {}, columns.map((p) => h('tr', {}, h('th', { scope: 'row' }, p.name),
      days.map((d) => h('td', {}, bookings.filter((b) => b.provider_id === p.id && ymd(new Date(b.starts_at), zone) === d).map((b) => chip(b, zone)))))))));

  // ---------- booking detail and actions ----------
  const openDetail = async (id) => {
    cal.selected = id;
    for (const el of body.querySelectorAll('button.booking')) el.setAttribute('aria-pressed', el.dataset.bookingId === id ? 'true' : 'false');
    detail.hidden = false;
    detail.replaceChildren(h('p', { role: 'status' }, 'Loading booking…'));
    const res = await authed(api.getBooking, { path: { id } });
    if (!res.ok) { detail.replaceChildren(problemBox(res.problem)); return; }
    renderDetail(res.data);
    detail.querySelector('h2').focus();
  };
  const renderDetail = (b, notice) => {
    const zone = zoneOf(b.location_id);
    const status = h('div', { class: 'action-status' });
    const act = async (label, fn, args, done) => {
      status.replaceChildren(h('p', { role: 'status' }, `${label}…`));
      const res = await authed(fn, { path: { id: b.id }, ...args });
      if (!res.ok) {
        status.replaceChildren(problemBox(res.problem));
        if (res.status === 409) load(); // the calendar shows what is in the way
        return;
      }
      renderDetail(res.data, `${b.code}: ${done}.`);
      announce(`${b.code}: ${done}.`);
      detail.querySelector('h2').focus();
      load();
    };
    const reasonForm = (id, label, button, fn, done, cls) => {
      const form = h('form', { class: 'reason' },
        h('label', { for: id }, label), h('textarea', { id, rows: 2, maxlength: 1000 }),
        h('button', { type: 'submit', class: cls }, button));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        const reason = form.querySelector('textarea').value.trim();
        act(button, fn, reason ? { body: { reason } } : {}, done);
      });
      return form;
    };
    const rows = [
      ['Code', h('span', { class: 'code' }, b.code)],
      ['Status', h('span', { class: `status s-${b.status}` }, STATUS_LABEL[b.status] || b.status)],
      ['When', `${dateLong(b.starts_at, zone)}, ${timeOf(b.starts_at, zone)}–${timeOf(b.ends_at, zone)} (${zone})`],
      ['Service', nameOf(catalog.services, b.service_id)],
      ['Provider', nameOf(catalog.providers, b.provider_id)],
      ['Branch', nameOf(catalog.locations, b.location_id)],
      ['Customer', b.contact_name],
      ['Email', b.contact_email || '—'],
      ['Phone', b.contact_phone || '—'],
      ['Party size', String(b.party_size)],
      ['Notes', b.notes || '—'],
      // Answers to the service's booking questions, as asked when booked.
      ...(b.answers || []).map((a) => [a.label, a.value === true ? 'Yes' : a.value === false ? 'No' : Array.isArray(a.value) ? a.value.join(', ') : String(a.value)]),
      ['Booked via', b.source === 'staff' ? 'staff' : 'booking page'],
      ...(b.status_reason ? [['Reason', b.status_reason]] : []),
    ];
    const actions = h('div', { class: 'actions' });
    if (b.status === 'held' || b.status === 'pending') {
      actions.append(h('button', { type: 'button', class: 'primary', onclick: () => act('Approving', api.confirmBooking, {}, 'approved') }, 'Approve'),
        reasonForm('reject-reason', 'Reason for rejecting (optional)', 'Reject', api.rejectBooking, 'rejected', 'danger'));
    }
    if (b.status === 'confirmed') {
      actions.append(h('div', { class: 'row' },
        h('button', { type: 'button', onclick: () => act('Marking completed', api.completeBooking, {}, 'marked completed') }, 'Mark completed'),
        h('button', { type: 'button', onclick: () => act('Marking no-show', api.markBookingNoShow, {}, 'marked as no-show') }, 'Mark no-show')));
    }
    if (ACTIVE.includes(b.status)) {
      actions.append(reasonForm('cancel-reason', 'Reason for cancelling (optional)', 'Cancel booking', api.cancelBooking, 'cancelled', 'danger'));
      const move = h('details', { class: 'reschedule' }, h('summary', {}, 'Reschedule'));
      const picker = slotPicker({
        idPrefix: 'rs', zone, serviceId: b.service_id, providerId: b.provider_id, locationId: b.location_id, day: ymd(new Date(b.starts_at), zone), exclude: b.starts_at,
      });
      const form = h('form', { class: 'reschedule-form' }, picker.el, h('button', { type: 'submit', class: 'primary' }, 'Move booking'));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        const startsAt = picker.value();
        if (!startsAt) { status.replaceChildren(problemBox({ title: 'Pick a new time first', code: 'no_time_chosen' })); return; }
        act('Rescheduling', api.rescheduleBooking, { body: { starts_at: startsAt } }, `moved to ${dateLong(startsAt, zone)}, ${timeOf(startsAt, zone)}`);
      });
      move.append(form);
      move.addEventListener('toggle', () => { if (move.open) picker.load(); }, { once: true });
      actions.append(move);
    }
    detail.replaceChildren(...[
      h('h2', { id: 'detail-title', tabindex: '-1' }, `Booking ${b.code}`),
      notice ? h('p', { class: 'notice', role: 'status' }, notice) : null,
      h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      actions, status,
      h('button', { type: 'button', class: 'link', onclick: () => { detail.hidden = true; cal.selected = null; const btn = body.querySelector(`[data-booking-id="${b.id}"]`); if (btn) btn.focus(); } }, 'Close details'),
    ].filter(Boolean));
  };

  if (!catalog.loaded) await loadCatalog();
  await load();
};

/**
 * Free times of a service on a day (the booking page's slots endpoint, in the branch's zone) as
 * radio buttons, plus a free time field for anything else staff may book (hidden services,
 * times inside the public notice period).
 */
const slotPicker = ({ idPrefix, zone, serviceId, providerId, locationId, day, exclude, onDay }) => {
  const st = { day, slots: [], seq: 0 };
  const list = h('div', { class: 'slots-host' });
  const dayInput = h('input', { id: `${idPrefix}-day`, type: 'date', value: st.day, onchange: (e) => { if (e.target.value) { st.day = e.target.value; if (onDay) onDay(st.day); picker.load(); } } });
  const other = h('input', { id: `${idPrefix}-time`, type: 'time', step: 300 });
  const el = h('div', { class: 'picker' },
    h('div', { class: 'field' }, h('label', { for: `${idPrefix}-day` }, 'Day'), dayInput),
    list,
    h('div', { class: 'field' }, h('label', { for: `${idPrefix}-time` }, `Or another time (${zone})`), other));
  const picker = {
    el,
    async load() {
      const slug = session.tenant.slug;
      const mine = ++st.seq;
      list.replaceChildren(h('p', { role: 'status' }, 'Loading free times…'));
      const query = { from: midnight(st.day, zone).toISOString(), to: midnight(addDays(st.day, 1), zone).toISOString(), timezone: zone,
        ...(providerId ? { provider: providerId } : {}), ...(locationId ? { location: locationId } : {}) };
      const res = await api.listPublicSlots({ path: { tenant: slug, service: serviceId }, query });
      if (mine !== st.seq) return;
      if (!res.ok) { list.replaceChildren(h('p', { class: 'muted' }, 'No online times for this service: enter a time below.')); st.slots = []; return; }
      const seen = new Set();
      st.slots = res.data.data.filter((s) => s.starts_at !== exclude && !seen.has(s.starts_at) && seen.add(s.starts_at));
      list.replaceChildren(st.slots.length === 0
        ? h('p', { class: 'empty' }, 'No free times on this day.')
        : h('fieldset', { class: 'slots' }, h('legend', {}, `Free times on ${dateShort(st.day)}`),
          st.slots.map((s, i) => h('label', { class: 'slot' },
            h('input', { type: 'radio', name: `${idPrefix}-slot`, value: s.starts_at, id: `${idPrefix}-slot-${i}` }), timeOf(s.starts_at, zone)))));
    },
    /** The chosen instant (ISO) or null. */
    value() {
      const radio = el.querySelector(`input[name="${idPrefix}-slot"]:checked`);
      if (other.value) return instant(st.day, other.value, zone).toISOString();
      return radio ? radio.value : null;
    },
  };
  return picker;
};

// ---------- new booking (walk-in or phone) ----------
const newBookingView = async () => {
  if (!catalog.loaded) await loadCatalog();
  const st = { location: cal.location, service: '', provider: '', day: null, key: crypto.randomUUID() };
  if (!st.location && catalog.locations[0]) st.location = catalog.locations[0].id;
  const zone = () => zoneOf(st.location);
  const form = h('form', { class: 'card new-booking', novalidate: true });
  const status = h('div', { class: 'form-status' });
  const pickHost = h('div', {});
  let picker = null;
  const offered = () => catalog.providers.filter((p) => (!st.location || p.location_id === st.location) && (!st.service || (byId(catalog.services, st.service) || { provider_ids: [] }).provider_ids.includes(p.id)));
  const sel = (id, label, options, value, onchange) => h('div', { class: 'field' }, h('label', { for: id }, label),
    h('select', { id, required: true, onchange: (e) => onchange(e.target.value) }, options.map(([v, l]) => h('option', { value: v, selected: v === value }, l))));
  const field = (id, label, attrs) => h('div', { class: 'field' }, h('label', { for: id }, label), h('input', { id, ...attrs }));
  const contact = h('fieldset', {}, h('legend', {}, 'Customer'),
    field('nb-name', 'Name', { autocomplete: 'off', required: true, maxlength: 200 }),
    field('nb-phone', 'Phone (optional)', { type: 'tel', autocomplete: 'off', maxlength: 32 }),
    field('nb-email', 'Email (optional)', { type: 'email', autocomplete: 'off', maxlength: 254 }),
    h('div', { class: 'field' }, h('label', { for: 'nb-notes' }, 'Notes (optional)'), h('textarea', { id: 'nb-notes', rows: 2, maxlength: 5000 })));
  const choices = h('fieldset', {}, h('legend', {}, 'What and when'));
  const renderChoices = () => {
    if (st.provider && !offered().some((p) => p.id === st.provider)) st.provider = '';
    choices.replaceChildren(h('legend', {}, 'What and when'),
      sel('nb-location', 'Branch', catalog.locations.map((l) => [l.id, l.name]), st.location, (v) => { st.location = v; renderChoices(); }),
      sel('nb-service', 'Service', [['', 'Choose a service'], ...catalog.services.map((s) => [s.id, `${s.name} (${s.duration_minutes} min)`])], st.service, (v) => { st.service = v; renderChoices(); }),
      sel('nb-provider', 'Provider', [['', 'Anyone available'], ...offered().map((p) => [p.id, p.name])], st.provider, (v) => { st.provider = v; renderChoices(); }),
      pickHost);
    pickHost.replaceChildren();
    picker = null;
    if (!st.service) return;
    st.day = st.day || cal.day || ymd(new Date(), zone());
    picker = slotPicker({ idPrefix: 'nb', zone: zone(), serviceId: st.service, providerId: st.provider, locationId: st.location, day: st.day, onDay: (d) => { st.day = d; } });
    pickHost.append(picker.el);
    picker.load();
  };
  form.append(choices, contact, h('button', { type: 'submit', class: 'primary' }, 'Book'), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    status.replaceChildren();
    const v = (id) => form.querySelector(`#${id}`).value.trim();
    const startsAt = picker && picker.value();
    if (!st.service || !startsAt) { status.append(problemBox({ title: 'Choose a service and a time', code: 'no_time_chosen' })); return; }
    const body = {
      service_id: st.service, starts_at: startsAt,
      ...(st.provider ? { provider_id: st.provider } : {}), ...(st.location ? { location_id: st.location } : {}),
      contact: { name: v('nb-name'), ...(v('nb-phone') ? { phone: v('nb-phone') } : {}), ...(v('nb-email') ? { email: v('nb-email') } : {}) },
      ...(v('nb-notes') ? { notes: v('nb-notes') } : {}),
    };
    const res = await authed(api.createBooking, { headers: { 'idempotency-key': st.key }, body });
    if (!res.ok) { status.append(problemBox(res.problem)); return; }
    st.key = crypto.randomUUID();
    const b = res.data;
    const z = zoneOf(b.location_id);
    status.append(h('div', { class: 'receipt', role: 'status' },
      h('p', {}, 'Booked: ', h('strong', { class: 'code' }, b.code), ` — ${b.contact_name}, ${dateLong(b.starts_at, z)} ${timeOf(b.starts_at, z)} with ${nameOf(catalog.providers, b.provider_id)} (${STATUS_LABEL[b.status]}).`),
      h('button', { type: 'button', onclick: () => { cal.day = ymd(new Date(b.starts_at), z); cal.provider = b.provider_id; cal.location = b.location_id; cal.view = 'day'; location.hash = '#calendar'; } }, 'Show in calendar')));
    announce(`Booked ${b.code}`);
    form.querySelector('#nb-name').value = '';
    form.querySelector('#nb-phone').value = '';
    form.querySelector('#nb-email').value = '';
    form.querySelector('#nb-notes').value = '';
    if (picker) picker.load();
  });
  show('New booking', h('p', { class: 'muted' }, 'For walk-ins and phone callers. Staff may book outside the times the booking page offers.'), form);
  renderChoices();
};

// ---------- dashboard ----------
const dashboardView = async () => {
  if (!catalog.loaded) await loadCatalog();
  const today = ymd(new Date(), zoneOf(''));
  const st = { from: addDays(today, -14), to: addDays(today, 15) };
  const out = h('div', { class: 'dashboard' });
  const controls = h('form', { class: 'controls', 'aria-label': 'Period' },
    h('div', { class: 'field' }, h('label', { for: 'dash-from' }, 'From'), h('input', { id: 'dash-from', type: 'date', value: st.from, required: true })),
    h('div', { class: 'field' }, h('label', { for: 'dash-to' }, 'To (exclusive)'), h('input', { id: 'dash-to', type: 'date', value: st.to, required: true })),
    h('button', { type: 'submit' }, 'Show'));
  controls.addEventListener('submit', (e) => { e.preventDefault(); st.from = controls.querySelector('#dash-from').value; st.to = controls.querySelector('#dash-to').value; load(); });
  show('Dashboard', controls, out);
  let seq = 0;
  const load = async () => {
    const mine = ++seq;
    out.replaceChildren(h('p', { role: 'status' }, 'Loading…'));
    const res = await authed(api.getAnalyticsSummary, { query: { from: st.from, to: st.to } });
    if (mine !== seq) return;
    if (!res.ok) { out.replaceChildren(problemBox(res.problem)); return; }
    const s = res.data;
    const statuses = Object.keys(s.bookings.by_status);
    out.replaceChildren(
      h('dl', { class: 'kpis' },
        h('div', {}, h('dt', {}, 'Bookings'), h('dd', { 'data-kpi': 'total' }, String(s.bookings.total))),
        h('div', {}, h('dt', {}, 'No-show rate'), h('dd', { 'data-kpi': 'no_show_rate' }, pct(s.no_show_rate))),
        h('div', {}, h('dt', {}, 'Cancellation rate'), h('dd', { 'data-kpi': 'cancellation_rate' }, pct(s.cancellation_rate)))),
      h('section', { 'aria-labelledby': 'per-day' }, h('h2', { id: 'per-day' }, 'Bookings per day'), barChart(s.by_day),
        h('details', {}, h('summary', {}, 'Bookings per day as a table'),
          h('table', { class: 'data', id: 'per-day-table' }, h('caption', { class: 'visually-hidden' }, 'Bookings per day'),
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Day'), h('th', { scope: 'col' }, 'Bookings'))),
            h('tbody', {}, s.by_day.map((d) => h('tr', {}, h('th', { scope: 'row' }, d.date), h('td', {}, String(d.total)))))))),
      h('section', { 'aria-labelledby': 'by-status' }, h('h2', { id: 'by-status' }, 'By status'),
        h('table', { class: 'data' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Bookings'))),
          h('tbody', {}, statuses.map((k) => h('tr', { 'data-status': k }, h('th', { scope: 'row' }, STATUS_LABEL[k] || k), h('td', {}, String(s.bookings.by_status[k]))))))),
      h('section', { 'aria-labelledby': 'utilization' }, h('h2', { id: 'utilization' }, 'Utilization per provider'),
        utilizationTable('Provider', s.utilization.providers.map((u) => ({ ...u, id: u.provider_id, name: nameOf(catalog.providers, u.provider_id, 'Provider') }))),
        h('h3', {}, 'Per branch'),
        utilizationTable('Branch', s.utilization.locations.map((u) => ({ ...u, id: u.location_id, name: nameOf(catalog.locations, u.location_id, 'Branch') })))),
    );
  };
  const hours = (m) => `${(m / 60).toFixed(1)} h`;
  const utilizationTable = (label, rows) => rows.length === 0 ? h('p', { class: 'empty' }, 'No working hours in this period.')
    : h('table', { class: 'data' }, h('thead', {}, h('tr', {}, ['', 'Booked', 'Working hours', 'Utilization'].map((c, i) => h('th', { scope: 'col' }, i === 0 ? label : c)))),
      h('tbody', {}, rows.map((u) => h('tr', { 'data-id': u.id }, h('th', { scope: 'row' }, u.name), h('td', {}, hours(u.booked_minutes)), h('td', {}, hours(u.working_minutes)),
        h('td', {}, h('meter', { min: 0, max: 1, value: Math.min(1, u.utilization || 0), 'aria-hidden': 'true' }), ' ', h('span', { class: 'pct' }, pct(u.utilization)))))));
  /** Inline SVG bars, one per day of the period; the title/desc and the table say the same in words. */
  const barChart = (withBookings) => {
    if (withBookings.length === 0) return h('p', { class: 'empty' }, 'No bookings in this period.');
    const totals = new Map(withBookings.map((d) => [d.date, d.total]));
    const days = [];
    for (let d = st.from; d < st.to && days.length < 400; d = addDays(d, 1)) days.push({ date: d, total: totals.get(d) || 0 });
    const max = Math.max(...days.map((d) => d.total), 1);
    const W = 640; const H = 180; const pad = 24; const step = (W - pad * 2) / days.length; const bw = Math.max(1, Math.min(40, step - 2));
    const busiest = withBookings.reduce((a, b) => (b.total > a.total ? b : a));
    const total = withBookings.reduce((n, d) => n + d.total, 0);
    const every = Math.ceil(days.length / 12);
    return svg('svg', { viewBox: `0 0 ${W} ${H + 30}`, class: 'chart', role: 'img', 'aria-labelledby': 'chart-title chart-desc' },
      svg('title', { id: 'chart-title' }, 'Bookings per day'),
      svg('desc', { id: 'chart-desc' }, `${total} bookings on ${withBookings.length} of ${days.length} days; the busiest was ${busiest.date} with ${busiest.total}.`),
      svg('line', { x1: pad, y1: H, x2: W - pad, y2: H, class: 'axis' }),
      days.map((d, i) => {
        const x = pad + i * step + (step - bw) / 2;
        const bh = Math.round((d.total / max) * (H - 20));
        return svg('g', {}, svg('title', {}, `${d.date}: ${d.total}`),
          svg('rect', { x, y: H - bh, width: bw, height: bh, class: 'bar' }),
          d.total > 0 && days.length <= 31 ? svg('text', { x: x + bw / 2, y: H - bh - 4, 'text-anchor': 'middle', class: 'val' }, String(d.total)) : null,
          i % every === 0 ? svg('text', { x: x + bw / 2, y: H + 16, 'text-anchor': 'middle', class: 'lbl' }, d.date.slice(5)) : null);
      }));
  };
  await load();
};

// ---------- settings (read-only lists) ----------
const WEEKDAYS = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
/** Weekly rules as text: days with the same hours together, runs of days as ranges ("Mon–Fri 09:00–17:00"). */
const weeklyHours = (rules) => {
  const byHours = new Map();
  for (const r of rules) {
    const k = `${r.start_time}–${r.end_time}${r.valid_from || r.valid_until ? ` (${r.valid_from || '…'} to ${r.valid_until || '…'})` : ''}`;
    byHours.set(k, [...(byHours.get(k) || []), r.weekday]);
  }
  return [...byHours].map(([hours, days]) => {
    const sorted = [...new Set(days)].sort((a, b) => a - b);
    const runs = [];
    for (const d of sorted) { const last = runs[runs.length - 1]; if (last && d === last[1] + 1) last[1] = d; else runs.push([d, d]); }
    return `${runs.map(([a, b]) => (a === b ? WEEKDAYS[a] : `${WEEKDAYS[a]}–${WEEKDAYS[b]}`)).join(', ')} ${hours}`;
  }).join('; ') || 'none';
};
const settingsView = async () => {
  if (!catalog.loaded) await loadCatalog();
  const section = (id, title) => { const s = h('section', { 'aria-labelledby': id }, h('h2', { id }, title), h('p', { role: 'status' }, 'Loading…')); return s; };
  const table = (heads, rows) => rows.length === 0 ? h('p', { class: 'empty' }, 'None.')
    : h('table', { class: 'data' }, h('thead', {}, h('tr', {}, heads.map((x) => h('th', { scope: 'col' }, x)))), h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', {}, c)))))));
  const fill = (s, res, render) => { s.lastChild.replaceWith(res.ok ? render(res.data) : problemBox(res.problem)); };
  const services = section('set-services', 'Services');
  const providers = section('set-providers', 'Providers and hours');
  const members = section('set-members', 'Members');
  const hooks = section('set-webhooks', 'Webhooks');
  const keys = section('set-keys', 'API keys');
  show('Settings', h('p', { class: 'muted' }, 'What the API lets your role read. Change these through the API (see /docs).'), services, providers, members, hooks, keys);
  fill(services, { ok: true, data: catalog.services }, (rows) => table(['Service', 'Kind', 'Duration', 'Approval', 'Public'],
    rows.map((s) => [s.name, s.kind, `${s.duration_minutes} min`, s.requires_approval ? 'required' : 'no', s.is_public ? 'yes' : 'hidden'])));
  const rules = await Promise.all(catalog.providers.map((p) => all((args) => api.listAvailabilityRules({ ...args, path: { id: p.id } }))));
  fill(providers, { ok: true, data: catalog.providers }, (rows) => table(['Provider', 'Branch', 'Weekly hours'],
    rows.map((p, i) => [p.name, nameOf(catalog.locations, p.location_id), rules[i].ok
      ? weeklyHours(rules[i].data) : rules[i].problem.code])));
  const [m, w, k] = await Promise.all([all(api.listMembers), all(api.listWebhookEndpoints), all(api.listApiKeys)]);
  fill(members, m, (rows) => table(['Member', 'Email', 'Role', 'Branch'], rows.map((x) => [x.display_name || '—', x.email || '—', x.role, x.location_id ? nameOf(catalog.locations, x.location_id) : 'all'])));
  fill(hooks, w, (rows) => table(['URL', 'Events', 'Enabled'], rows.map((x) => [x.url, x.event_types.join(', ') || 'all', x.is_enabled ? 'yes' : `no (${x.disabled_reason || 'off'})`])));
  fill(keys, k, (rows) => table(['Name', 'Key starts', 'Scopes', 'Last used'], rows.map((x) => [x.name, x.key_prefix, x.scopes.join(', '), x.last_used_at ? fmt(x.last_used_at, browserZone, { dateStyle: 'medium', timeStyle: 'short' }) : 'never'])));
};

// ---------- routing ----------
const route = async () => {
  if (!session) { loginView(); return; }
  if (!session.tenant) { renderTop(); show('No business', h('p', {}, 'This account is not a member of any business.'), h('button', { type: 'button', onclick: signOut }, 'Sign out')); return; }
  const view = (location.hash || '#calendar').slice(1);
  const known = VIEWS.some(([id]) => id === view) ? view : 'calendar';
  renderTop(known);
  try {
    if (known === 'new') await newBookingView();
    else if (known === 'dashboard') await dashboardView();
    else if (known === 'settings') await settingsView();
    else await calendarView();
  } catch (error) {
    main.append(problemBox({ title: 'The console could not reach the API', detail: String(error && error.message || error), code: 'network_error' }));
  }
  const title = document.getElementById('view-title');
  if (title && document.activeElement === document.body) { title.setAttribute('tabindex', '-1'); title.focus(); }
};
window.addEventListener('hashchange', route);
route();
