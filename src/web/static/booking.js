// Slotbase booking and manage pages. Plain browser JavaScript, no framework, no build step: it
// reads the public API (/v1/public/...), keeps every choice in one `state` object, renders the
// steps as native form controls (so keyboard and screen readers work without extra code), and
// listens to live availability (Server-Sent Events) to drop slots taken elsewhere.
(() => {
  'use strict';
  const app = document.getElementById('app');
  if (!app) return;
  const page = app.dataset.page;
  const tenant = app.dataset.tenant;
  const embedded = app.dataset.embed === '1';
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

  // ---------- small helpers ----------
  const h = (tag, attrs = {}, ...children) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'text') el.textContent = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
    return el;
  };
  const api = async (method, path, body, headers = {}) => {
    const res = await fetch(path, {
      method,
      headers: { accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    return { status: res.status, ok: res.ok, data };
  };
  const fmt = (iso, zone, opts) => new Intl.DateTimeFormat(undefined, { timeZone: zone, ...opts }).format(new Date(iso));
  const timeOf = (iso, zone) => fmt(iso, zone, { hour: '2-digit', minute: '2-digit' });
  const dateLong = (iso, zone) => fmt(iso, zone, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  /** YYYY-MM-DD of an instant in a zone. */
  const ymd = (date, zone) => {
    const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(date).map((x) => [x.type, x.value]));
    return `${p.year}-${p.month}-${p.day}`;
  };
  /** The UTC instant at which local midnight of `day` (YYYY-MM-DD) happens in `zone`. */
  const midnight = (day, zone) => {
    const guess = new Date(`${day}T00:00:00Z`);
    const local = new Date(new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(guess).replace(/(\d+)\/(\d+)\/(\d+), /, '$3-$1-$2T') + 'Z');
    return new Date(guess.getTime() - (local.getTime() - guess.getTime()));
  };
  const addDays = (day, n) => {
    const d = new Date(`${day}T12:00:00Z`);
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  };
  /** The older unbound per-browser token: used only where WebCrypto or IndexedDB is missing (e.g. plain http). */
  const legacyDeviceToken = () => {
    try {
      let t = localStorage.getItem('slotbase.device');
      if (!t) { t = 'dvc_' + crypto.randomUUID().replace(/-/g, '') + crypto.randomUUID().replace(/-/g, ''); localStorage.setItem('slotbase.device', t); }
      return t;
    } catch { return undefined; }
  };

  // ---------- device token bound to a key of this browser (anti-scalping) ----------
  /**
   * A P-256 key pair generated here (the private key is not extractable and never leaves the
   * browser; IndexedDB keeps the CryptoKey objects) and a device token the business issued for its
   * public key (POST /v1/public/{tenant}/device-tokens). Each request that uses the token carries
   * a fresh proof: a JWS (ES256) over the method, path, time, a one-time id, the token's hash and
   * the Idempotency-Key, so a copied token is useless without this browser's key.
   */
  const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const utf8 = (text) => new TextEncoder().encode(text);
  const idb = (mode, fn) => new Promise((resolve, reject) => {
    const open = indexedDB.open('slotbase', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('device');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction('device', mode);
      const req = fn(tx.objectStore('device'));
      tx.oncomplete = () => { open.result.close(); resolve(req && req.result); };
      tx.onerror = () => { open.result.close(); reject(tx.error); };
    };
  });
  const device = {
    record: null,
    async load() {
      if (this.record) return this.record;
      let rec = await idb('readonly', (store) => store.get(tenant));
      if (!rec || !rec.keys) {
        const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
        const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', keys.publicKey);
        rec = { keys, jwk: { kty, crv, x, y }, token: null, expires_at: null };
        await idb('readwrite', (store) => store.put(rec, tenant));
      }
      this.record = rec;
      return rec;
    },
    async proof(method, path, extra) {
      const rec = await this.load();
      const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: rec.jwk };
      const claims = { htm: method, htu: path, iat: Math.floor(Date.now() / 1000), jti: crypto.randomUUID(), ...extra };
      const input = `${b64url(utf8(JSON.stringify(header)))}.${b64url(utf8(JSON.stringify(claims)))}`;
      const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, rec.keys.privateKey, utf8(input));
      return `${input}.${b64url(signature)}`;
    },
    /** A token that is good for at least another hour: the stored one, or a newly issued one (one request at a time). */
    token() {
      this.pending ??= this.fetchToken().finally(() => { this.pending = null; });
      return this.pending;
    },
    async fetchToken() {
      const rec = await this.load();
      if (rec.token && new Date(rec.expires_at).getTime() > Date.now() + 3600_000) return rec.token;
      const path = `/v1/public/${encodeURIComponent(tenant)}/device-tokens`;
      const res = await api('POST', path, { public_key: rec.jwk }, { 'x-device-proof': await this.proof('POST', path) });
      if (!res.ok) throw new Error(`device token: ${res.status}`);
      rec.token = res.data.device_token;
      rec.expires_at = res.data.expires_at;
      await idb('readwrite', (store) => store.put(rec, tenant));
      return rec.token;
    },
    forget() { if (this.record) { this.record.token = null; this.record.expires_at = null; } },
    supported: () => Boolean(window.isSecureContext && window.crypto && crypto.subtle && window.indexedDB),
    /** Headers for a request that uses the device token (falls back to the unbound token when this browser cannot do the above). */
    async headers(method, path, idempotencyKey) {
      try {
        if (!this.supported()) throw new Error('no WebCrypto');
        const token = await this.token();
        const ath = b64url(await crypto.subtle.digest('SHA-256', utf8(token)));
        return { 'x-device-token': token, 'x-device-proof': await this.proof(method, path, { ath, ...(idempotencyKey ? { idk: idempotencyKey } : {}) }) };
      } catch (error) {
        console.warn('Slotbase: no bound device token', error);
        const legacy = legacyDeviceToken();
        return legacy ? { 'x-device-token': legacy } : {};
      }
    },
  };

  const announce = (message) => {
    let live = document.getElementById('sb-live');
    if (!live) { live = h('p', { id: 'sb-live', class: 'visually-hidden', 'aria-live': 'polite' }); app.append(live); }
    live.textContent = message;
  };
  const postToParent = (message) => { if (embedded && window.parent !== window) window.parent.postMessage({ source: 'slotbase', ...message }, '*'); };
  if (embedded && 'ResizeObserver' in window) {
    new ResizeObserver(() => postToParent({ type: 'resize', height: Math.ceil(document.documentElement.scrollHeight) })).observe(document.body);
  }

  // ---------- live availability ----------
  const watch = (onChange) => {
    if (!('EventSource' in window)) return;
    const es = new EventSource(`/v1/public/${encodeURIComponent(tenant)}/events`);
    es.addEventListener('availability', (e) => { try { onChange(JSON.parse(e.data)); } catch { /* ignore */ } });
    es.addEventListener('reset', () => onChange(null));
  };

  // ---------- slot picker (booking and rescheduling share it) ----------
  /**
   * Renders date navigation, the time zone switch and the free slots of one day into `host`.
   * `load(fromIso, toIso, zone)` returns the slots; `choose(slot)` is called with the pick.
   */
  const slotPicker = ({ host, zone: locationZone, load, choose, label }) => {
    const st = { zone: browserZone, day: ymd(new Date(), browserZone), slots: [], loading: false, seq: 0 };
    const section = h('section', { class: 'step', 'aria-labelledby': 'sb-when' });
    host.append(section);
    const refresh = async () => {
      const seq = ++st.seq;
      st.loading = true;
      render();
      const from = midnight(st.day, st.zone);
      const to = midnight(addDays(st.day, 1), st.zone);
      const result = await load(from.toISOString(), to.toISOString(), st.zone);
      if (seq !== st.seq) return;
      st.loading = false;
      st.error = result.ok ? null : (result.data && result.data.title) || 'Could not load times';
      st.slots = result.ok ? result.data.data : [];
      render();
    };
    const render = () => {
      const zones = [...new Set([browserZone, locationZone, 'UTC'].filter(Boolean))];
      const list = st.loading
        ? h('p', { role: 'status' }, 'Loading times…')
        : st.error
          ? h('p', { class: 'error', role: 'alert' }, st.error)
          : st.slots.length === 0
            ? h('p', { class: 'empty' }, 'No free times on this day. Try another day.')
            : h('ul', { class: 'slots', 'aria-label': `Free times on ${dateLong(midnight(st.day, st.zone).toISOString(), st.zone)}` },
                st.slots.map((s) => h('li', {}, h('button', {
                  type: 'button', class: 'slot', 'data-starts-at': s.starts_at,
                  onclick: () => choose(s, st.zone),
                }, timeOf(s.starts_at, st.zone), s.seats_left !== null && s.seats_left !== undefined ? h('span', { class: 'seats' }, ` · ${s.seats_left} left`) : null))));
      section.replaceChildren(
        h('h2', { id: 'sb-when' }, label),
        h('div', { class: 'day-nav' },
          h('button', { type: 'button', 'aria-label': 'Previous day', onclick: () => { st.day = addDays(st.day, -1); refresh(); } }, '‹'),
          h('label', { for: 'sb-day' }, 'Date'),
          h('input', { id: 'sb-day', type: 'date', value: st.day, onchange: (e) => { if (e.target.value) { st.day = e.target.value; refresh(); } } }),
          h('button', { type: 'button', 'aria-label': 'Next day', onclick: () => { st.day = addDays(st.day, 1); refresh(); } }, '›')),
        h('div', { class: 'zone' },
          h('label', { for: 'sb-zone' }, 'Times shown in'),
          h('select', { id: 'sb-zone', onchange: (e) => { st.zone = e.target.value; refresh(); } },
            zones.map((z) => h('option', { value: z, selected: z === st.zone }, z))),
          locationZone && locationZone !== st.zone ? h('span', { class: 'hint' }, ` (the appointment is in ${locationZone})`) : null),
        list,
      );
    };
    refresh();
    return {
      refresh,
      /** A change from the live stream: refetch when it touches the day on screen (or always, on reset). */
      changed(change) {
        if (!change || !change.from || !change.to) return refresh();
        const from = midnight(st.day, st.zone).getTime();
        const to = midnight(addDays(st.day, 1), st.zone).getTime();
        if (new Date(change.from).getTime() < to && new Date(change.to).getTime() > from) refresh();
      },
      get zone() { return st.zone; },
    };
  };

  const problemText = (res, fallback) => (res.data && (res.data.detail || res.data.title)) || fallback;

  /**
   * A priced service's booking is held until paid: ask the API for a Stripe Checkout page and go
   * there (the top window when embedded: Checkout refuses to be framed). Returns the problem when
   * no page could be opened (e.g. 501 billing_not_configured).
   */
  const payForBooking = async (code, token) => {
    const res = await api('POST', `/v1/public/bookings/${encodeURIComponent(code)}/checkout?token=${encodeURIComponent(token)}`);
    if (!res.ok || !res.data || !res.data.url) return res;
    (embedded ? window.top : window).location.assign(res.data.url);
    return null;
  };

  // ---------- customer sign-in (optional for bookers) ----------
  /**
   * "Sign in to see your bookings": a customer account of this booking page (log in or sign up at
   * /v1/public/{tenant}/customers/…), its upcoming and past bookings with this business (GET
   * /v1/me/bookings), and its profile for booking without typing contact details. The session is
   * kept in sessionStorage (this tab only) and refreshed once when the access token has expired.
   */
  const customerAccount = ({ host, locations, services, onChange }) => {
    const KEY = 'slotbase.customer';
    const self = { session: null, profile: null, upcoming: [], past: [], open: false, mode: 'login' };
    try { self.session = JSON.parse(sessionStorage.getItem(KEY) || 'null'); } catch { self.session = null; }
    const store = () => {
      try { if (self.session) sessionStorage.setItem(KEY, JSON.stringify(self.session)); else sessionStorage.removeItem(KEY); } catch { /* memory only */ }
    };
    const locationIds = new Set(locations.map((l) => l.id));
    const serviceNames = new Map(services.map((s) => [s.id, s.name]));
    const zoneOf = (id) => (locations.find((l) => l.id === id) || locations[0] || {}).time_zone || browserZone;

    self.api = async (method, path, body, headers = {}) => {
      if (!self.session) return { status: 401, ok: false, data: null };
      const call = () => api(method, path, body, { ...headers, authorization: `Bearer ${self.session.access_token}` });
      // A 401 about the device token (invalid_device_token / invalid_device_proof) is not about the session.
      const expired = (r) => r.status === 401 && !(r.data && /^invalid_device_/.test(String(r.data.code)));
      let res = await call();
      if (expired(res) && self.session.refresh_token) {
        const fresh = await api('POST', '/v1/auth/refresh', { refresh_token: self.session.refresh_token });
        if (fresh.ok) { self.session = fresh.data; store(); res = await call(); }
      }
      if (expired(res)) signOut(false);
      return res;
    };
    const load = async () => {
      const me = await self.api('GET', '/v1/me');
      if (!self.session) return;
      if (!me.ok) { self.profile = null; render(); return; }
      self.profile = me.data;
      await self.refreshBookings(false);
      render();
      onChange();
    };
    /** Only this business's bookings: /v1/me/bookings spans every business the customer booked with. */
    self.refreshBookings = async (rerender = true) => {
      const [upcoming, past] = await Promise.all([
        self.api('GET', '/v1/me/bookings?upcoming=true&limit=50'),
        self.api('GET', '/v1/me/bookings?upcoming=false&limit=50'),
      ]);
      const mine = (res) => (res.ok ? res.data.data.filter((b) => locationIds.has(b.location_id) || serviceNames.has(b.service_id)) : []);
      self.upcoming = mine(upcoming).reverse(); // soonest first
      self.past = mine(past);
      if (rerender) render();
    };
    const signOut = (announceIt = true) => {
      if (self.session && self.session.refresh_token) void api('POST', '/v1/auth/logout', { refresh_token: self.session.refresh_token });
      self.session = null;
      self.profile = null;
      self.upcoming = [];
      self.past = [];
      store();
      render();
      onChange();
      if (announceIt) { announce('You are signed out.'); host.querySelector('a')?.focus(); }
    };
    const list = (items, empty) =>
      items.length === 0
        ? h('p', { class: 'hint' }, empty)
        : h('ul', { class: 'my-bookings' }, items.map((b) => h('li', { 'data-code': b.code },
            h('strong', {}, `${dateLong(b.starts_at, zoneOf(b.location_id))}, ${timeOf(b.starts_at, zoneOf(b.location_id))}`),
            ` · ${serviceNames.get(b.service_id) || 'Appointment'} · `, h('span', { class: 'code' }, b.code), ` · ${b.status}`)));

    const form = () => {
      const signup = self.mode === 'signup';
      const status = h('p', { class: 'account-status error', role: 'alert' });
      const fieldOf = (id, label, attrs) => h('div', { class: 'field' },
        h('label', { for: id }, label),
        h('input', { id, name: id, 'aria-describedby': `${id}-error`, ...attrs }),
        h('p', { class: 'field-error', id: `${id}-error` }));
      const el = h('form', { class: 'step account-form', novalidate: true, 'aria-labelledby': 'sb-account' },
        h('h2', { id: 'sb-account', tabindex: '-1' }, 'Your account'),
        h('fieldset', { class: 'account-mode' }, h('legend', { class: 'visually-hidden' }, 'Account'),
          [['login', 'I have an account'], ['signup', 'I am new here']].map(([mode, label]) => h('label', { class: 'choice' },
            h('input', { type: 'radio', name: 'account-mode', value: mode, checked: self.mode === mode, onchange: () => { self.mode = mode; render(true); } }),
            h('span', {}, label)))),
        signup ? fieldOf('acct-name', 'Full name', { autocomplete: 'name', required: true, maxlength: 200 }) : null,
        fieldOf('acct-email', 'Account email', { type: 'email', autocomplete: 'email', required: true, maxlength: 254 }),
        fieldOf('acct-password', 'Account password', { type: 'password', autocomplete: signup ? 'new-password' : 'current-password', required: true, maxlength: 200, minlength: signup ? 10 : null }),
        status,
        h('div', { class: 'actions' },
          h('button', { type: 'submit', class: 'primary' }, signup ? 'Create account' : 'Sign in'),
          h('button', { type: 'button', onclick: () => { self.open = false; render(); host.querySelector('a')?.focus(); } }, 'Close')));
      el.addEventListener('submit', async (e) => {
        e.preventDefault();
        for (const x of el.querySelectorAll('.field-error')) x.textContent = '';
        for (const x of el.querySelectorAll('[aria-invalid]')) x.removeAttribute('aria-invalid');
        status.textContent = '';
        const v = (id) => el.querySelector(`#${id}`).value;
        const body = { email: v('acct-email').trim(), password: v('acct-password'), ...(signup ? { name: v('acct-name').trim() } : {}) };
        const res = await api('POST', `/v1/public/${encodeURIComponent(tenant)}/customers/${signup ? 'signup' : 'login'}`, body);
        if (res.ok) {
          self.session = res.data;
          self.open = false;
          store();
          await load();
          announce(`Signed in as ${res.data.user.email}.`);
          host.querySelector('h2')?.focus();
          return;
        }
        let first = null;
        for (const err of (res.data && Array.isArray(res.data.errors) ? res.data.errors : [])) {
          const id = { email: 'acct-email', password: 'acct-password', name: 'acct-name' }[err.field];
          const input = id && el.querySelector(`#${id}`);
          if (!input) continue;
          input.setAttribute('aria-invalid', 'true');
          el.querySelector(`#${id}-error`).textContent = res.status === 409 && id === 'acct-email' ? 'There is already an account with this email: sign in instead.' : err.message;
          first ??= input;
        }
        status.textContent = first ? 'Please check the highlighted fields.'
          : res.status === 401 ? 'That email and password do not match.' : problemText(res, 'Something went wrong. Please try again.');
        (first || el.querySelector('#acct-email')).focus();
      });
      return el;
    };

    const render = (focusForm = false) => {
      if (self.session && self.profile) {
        host.replaceChildren(h('section', { class: 'step', 'aria-labelledby': 'sb-account' },
          h('div', { class: 'signed-in' },
            h('h2', { id: 'sb-account', tabindex: '-1' }, 'Your bookings'),
            h('button', { type: 'button', class: 'link-button', onclick: () => signOut() }, 'Sign out')),
          h('p', {}, 'Signed in as ', h('strong', {}, self.profile.display_name || self.profile.email), self.profile.display_name ? ` (${self.profile.email})` : ''),
          h('h3', {}, 'Upcoming'), list(self.upcoming, 'No upcoming appointments.'),
          h('h3', {}, 'Past'), list(self.past, 'No past appointments.')));
        return;
      }
      if (self.open) {
        const f = form();
        host.replaceChildren(f);
        if (focusForm) f.querySelector('input:checked')?.focus();
        return;
      }
      host.replaceChildren(h('p', { class: 'account-link' },
        h('a', { href: '#sb-account', onclick: (e) => { e.preventDefault(); self.open = true; render(); host.querySelector('#sb-account')?.focus(); } }, 'Sign in to see your bookings'),
        h('span', { class: 'hint' }, ' (optional: you can book without an account)')));
    };
    self.start = () => { render(); if (self.session) void load(); };
    Object.defineProperty(self, 'signedIn', { get: () => Boolean(self.session && self.profile) });
    return self;
  };

  // ---------- the booking page ----------
  const bookingPage = async () => {
    const state = { locations: [], services: [], providers: [], location: null, service: null, provider: 'any', slot: null, zone: browserZone, picker: null, idempotency: crypto.randomUUID() };
    const [services, locations, providers] = await Promise.all([
      api('GET', `/v1/public/${encodeURIComponent(tenant)}/services`),
      api('GET', `/v1/public/${encodeURIComponent(tenant)}/locations`),
      api('GET', `/v1/public/${encodeURIComponent(tenant)}/providers`),
    ]);
    app.querySelector('.loading')?.remove();
    if (!services.ok || !locations.ok) {
      app.append(h('p', { class: 'error', role: 'alert' }, 'This booking page could not be loaded. Please try again later.'));
      return;
    }
    state.services = services.data.data;
    state.locations = locations.data.data;
    state.providers = providers.ok ? providers.data.data : [];
    const wanted = app.dataset.service;
    state.service = state.services.find((s) => s.slug === wanted || s.id === wanted) || (state.services.length === 1 ? state.services[0] : null);
    state.location = state.locations.length === 1 ? state.locations[0] : null;

    const form = h('form', { class: 'booking', novalidate: true });
    const accountBox = h('div', { class: 'account' });
    app.append(accountBox, form);
    const zoneOf = () => (state.location ? state.location.time_zone : state.locations[0] && state.locations[0].time_zone);
    const providersFor = () => state.providers.filter((p) => state.service && p.service_ids.includes(state.service.id) && (!state.location || p.location_id === state.location.id));

    const radios = (name, legend, items, selected, onPick) =>
      h('fieldset', { class: 'step' }, h('legend', {}, legend),
        items.map((it) => h('label', { class: 'choice' },
          h('input', { type: 'radio', name, value: it.value, checked: it.value === selected, onchange: () => onPick(it.value) }),
          h('span', {}, it.label, it.hint ? h('small', {}, ` ${it.hint}`) : null))));

    const render = () => {
      form.replaceChildren();
      if (state.locations.length > 1) {
        form.append(radios('location', 'Where', state.locations.map((l) => ({ value: l.id, label: l.name, hint: l.address || '' })), state.location && state.location.id,
          (id) => { state.location = state.locations.find((l) => l.id === id); state.provider = 'any'; state.slot = null; render(); }));
        if (!state.location) return;
      }
      if (state.services.length === 0) {
        form.append(h('p', { class: 'notice', role: 'status' }, 'There is nothing to book online here yet. Please check back later.'));
        return;
      }
      form.append(radios('service', 'What', state.services.map((s) => ({ value: s.id, label: s.name, hint: `${s.duration_minutes} min${s.price_cents ? ` · ${(s.price_cents / 100).toFixed(2)} ${s.currency || ''}` : ''}` })), state.service && state.service.id,
        (id) => { state.service = state.services.find((s) => s.id === id); state.provider = 'any'; state.slot = null; render(); }));
      if (!state.service) return;
      const offered = providersFor();
      if (offered.length > 1) {
        form.append(radios('provider', 'With', [{ value: 'any', label: 'Anyone available' }, ...offered.map((p) => ({ value: p.id, label: p.name }))], state.provider,
          (id) => { state.provider = id; state.slot = null; render(); }));
      }
      const when = h('div', {});
      form.append(when);
      state.picker = slotPicker({
        host: when,
        zone: zoneOf(),
        label: 'When',
        load: (from, to, zone) => {
          const q = new URLSearchParams({ from, to, timezone: zone });
          if (state.provider !== 'any') q.set('provider', state.provider);
          if (state.location) q.set('location', state.location.id);
          return api('GET', `/v1/public/${encodeURIComponent(tenant)}/services/${state.service.id}/slots?${q}`);
        },
        choose: (slot, zone) => { state.slot = slot; state.zone = zone; renderDetails(true); },
      });
      form.append(details);
      renderDetails(false);
    };

    // The details step keeps its inputs across re-renders: nothing typed is ever lost.
    const details = h('fieldset', { class: 'step details' });
    const field = (id, label, attrs) => h('div', { class: 'field' }, h('label', { for: id }, label), h('input', { id, name: id, ...attrs }), h('p', { class: 'field-error', id: `${id}-error`, 'aria-live': 'polite' }));
    const inputs = {
      name: field('name', 'Your name', { autocomplete: 'name', required: true, maxlength: 200 }),
      email: field('email', 'Email', { type: 'email', autocomplete: 'email', required: true, maxlength: 254 }),
      phone: field('phone', 'Phone (optional)', { type: 'tel', autocomplete: 'tel', maxlength: 40 }),
      party: field('party_size', 'Number of people', { type: 'number', min: 1, value: 1 }),
      notes: h('div', { class: 'field' }, h('label', { for: 'notes' }, 'Notes (optional)'), h('textarea', { id: 'notes', name: 'notes', maxlength: 2000, rows: 3 })),
    };
    /**
     * The service's booking questions (PublicService.questions): one native control each, kept
     * across re-renders like the inputs above. `read()` gives the answer to send, or undefined.
     */
    const questionFields = new Map();
    const questionField = (q) => {
      if (questionFields.has(q.id)) return questionFields.get(q.id);
      const id = `q-${q.id}`;
      const help = q.help_text ? h('p', { class: 'hint', id: `${id}-help` }, q.help_text) : null;
      const error = h('p', { class: 'field-error', id: `${id}-error`, 'aria-live': 'polite' });
      const describedBy = [q.help_text ? `${id}-help` : null, `${id}-error`].filter(Boolean).join(' ');
      const label = q.is_required ? q.label : `${q.label} (optional)`;
      let el;
      let read;
      let focusable;
      if (q.kind === 'text') {
        const long = q.max_length > 200;
        focusable = h(long ? 'textarea' : 'input', { id, name: id, maxlength: q.max_length, required: q.is_required, 'aria-describedby': describedBy, ...(long ? { rows: 3 } : { type: 'text' }) });
        el = h('div', { class: 'field question', 'data-question': q.id }, h('label', { for: id }, label), help, focusable, error);
        read = () => focusable.value.trim() || undefined;
      } else if (q.kind === 'checkbox') {
        focusable = h('input', { type: 'checkbox', id, name: id, required: q.is_required, 'aria-describedby': describedBy });
        el = h('div', { class: 'field question', 'data-question': q.id }, h('label', { class: 'choice', for: id }, focusable, h('span', {}, label)), help, error);
        read = () => focusable.checked;
      } else {
        const multiple = q.kind === 'multiple_choice';
        const boxes = (q.options || []).map((o, i) => h('input', { type: multiple ? 'checkbox' : 'radio', name: id, value: o, id: `${id}-${i}`, required: !multiple && q.is_required }));
        el = h('fieldset', { class: 'field question', id, 'data-question': q.id, 'aria-describedby': describedBy }, h('legend', {}, label), help,
          boxes.map((box, i) => h('label', { class: 'choice', for: `${id}-${i}` }, box, h('span', {}, q.options[i]))), error);
        focusable = boxes[0];
        read = () => {
          const picked = boxes.filter((b) => b.checked).map((b) => b.value);
          return multiple ? (picked.length ? picked : undefined) : picked[0];
        };
      }
      const field = { el, read, focusable, error };
      questionFields.set(q.id, field);
      return field;
    };
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Book');
    const status = h('p', { class: 'form-status', role: 'alert' });
    /** Signed in with a named profile: the API takes the contact from it, so no fields are shown. */
    const usesProfile = () => Boolean(customer.profile && customer.profile.display_name);
    const renderDetails = (focus) => {
      details.replaceChildren();
      if (!state.slot) { details.hidden = true; return; }
      details.hidden = false;
      const chosen = h('p', { class: 'chosen' }, h('strong', {}, `${dateLong(state.slot.starts_at, state.zone)}, ${timeOf(state.slot.starts_at, state.zone)}`), ` (${state.zone})`);
      details.append(h('legend', {}, 'Your details'), chosen);
      if (usesProfile()) {
        details.append(h('p', { class: 'booking-as' }, 'Booking as ', h('strong', {}, customer.profile.display_name), ` (${customer.profile.email})`));
      } else {
        if (customer.profile) {
          // Signed in without a name on the profile: prefill what it has.
          const email = inputs.email.querySelector('input');
          if (!email.value) email.value = customer.profile.email || '';
          const phone = inputs.phone.querySelector('input');
          if (!phone.value && customer.profile.phone) phone.value = customer.profile.phone;
        }
        details.append(inputs.name, inputs.email, inputs.phone);
      }
      const party = inputs.party.querySelector('input');
      party.max = String(state.service.max_party_size);
      if (state.service.max_party_size > 1) details.append(inputs.party);
      for (const q of state.service.questions || []) details.append(questionField(q).el);
      details.append(inputs.notes, submit, status);
      if (focus) (usesProfile() ? submit : inputs.name.querySelector('input')).focus();
    };

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!state.slot) return;
      for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
      for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
      status.textContent = '';
      const value = (id) => form.querySelector(`#${id}`).value.trim();
      const body = {
        service_id: state.service.id,
        ...(state.slot.session_id ? { session_id: state.slot.session_id } : { starts_at: state.slot.starts_at }),
        ...(state.provider !== 'any' ? { provider_id: state.provider } : {}),
        location_id: state.slot.location_id,
        party_size: state.service.max_party_size > 1 ? Number(value('party_size') || 1) : 1,
        ...(usesProfile() ? {} : { contact: { name: value('name'), email: value('email'), ...(value('phone') ? { phone: value('phone') } : {}) } }),
        ...(value('notes') ? { notes: value('notes') } : {}),
      };
      const questions = state.service.questions || [];
      if (questions.length) {
        body.answers = {};
        for (const q of questions) {
          const answer = questionField(q).read();
          if (answer !== undefined) body.answers[q.id] = answer;
        }
      }
      submit.disabled = true;
      submit.textContent = 'Booking…';
      const path = `/v1/public/${encodeURIComponent(tenant)}/bookings`;
      const send = async () => {
        const headers = { 'idempotency-key': state.idempotency, ...(await device.headers('POST', path, state.idempotency)) };
        return customer.session ? customer.api('POST', path, body, headers) : api('POST', path, body, headers);
      };
      let res = await send();
      if (res.status === 401 && res.data && res.data.code === 'invalid_device_token') {
        device.forget(); // expired or unknown here: get a new one and try once more
        res = await send();
      }
      submit.disabled = false;
      submit.textContent = 'Book';
      if (res.status === 201 || res.status === 200) {
        if (customer.session) customer.refreshBookings();
        return confirmation(res.data);
      }
      state.idempotency = crypto.randomUUID(); // a new attempt is a new request
      if (res.status === 422 && res.data && Array.isArray(res.data.errors)) {
        let first = null;
        for (const err of res.data.errors) {
          const question = /^answers\.(.+)$/.exec(err.field || '');
          const asked = question && questionFields.get(question[1]);
          if (asked) {
            asked.focusable.setAttribute('aria-invalid', 'true');
            asked.error.textContent = err.message;
            first ??= asked.focusable;
            continue;
          }
          const id = { 'contact.name': 'name', 'contact.email': 'email', 'contact.phone': 'phone', party_size: 'party_size', notes: 'notes' }[err.field];
          const input = id && form.querySelector(`#${id}`);
          if (input) {
            input.setAttribute('aria-invalid', 'true');
            input.setAttribute('aria-describedby', `${id}-error`);
            const msg = form.querySelector(`#${id}-error`);
            if (msg) msg.textContent = err.message;
            first ??= input;
          }
        }
        status.textContent = 'Please check the highlighted fields.';
        (first || status).focus();
        return;
      }
      if (res.status === 409) {
        status.textContent = `${problemText(res, 'That time was just taken.')} Please pick another time — your details are kept.`;
        state.slot = null;
        state.picker && state.picker.refresh();
        details.hidden = true;
        announce(status.textContent);
        form.querySelector('.slot')?.focus();
        return;
      }
      status.textContent = problemText(res, 'Something went wrong. Please try again.');
    });

    const confirmation = async (receipt) => {
      const manage = `/b/manage/${encodeURIComponent(receipt.code)}?token=${encodeURIComponent(receipt.manage_token)}`;
      if (receipt.status === 'held' && state.service && state.service.price_cents) {
        status.textContent = 'Your time is held. Taking you to payment…';
        announce(status.textContent);
        const failed = await payForBooking(receipt.code, receipt.manage_token);
        if (!failed) return;
        status.textContent = `${problemText(failed, 'Payment could not be started.')} Your time is held for now; you can pay from the booking page: `;
        status.append(h('a', { href: manage }, 'open your booking'));
        return;
      }
      const ics = `/v1/public/bookings/${encodeURIComponent(receipt.code)}.ics?token=${encodeURIComponent(receipt.manage_token)}`;
      form.replaceWith(h('section', { class: 'confirmation', tabindex: '-1', 'aria-labelledby': 'sb-done' },
        h('h2', { id: 'sb-done' }, receipt.status === 'pending' ? 'Request received' : 'You are booked'),
        h('p', {}, receipt.status === 'pending' ? 'The business will confirm your request; you will get an email.' : 'A confirmation is on its way to your inbox.'),
        h('p', {}, 'Booking code: ', h('strong', { class: 'code' }, receipt.code)),
        h('p', {}, `${dateLong(receipt.starts_at, state.zone)}, ${timeOf(receipt.starts_at, state.zone)} (${state.zone})`),
        h('p', {}, h('a', { href: ics, download: `${receipt.code}.ics` }, 'Add to calendar (.ics)'), ' · ', h('a', { href: manage, target: embedded ? '_blank' : null }, 'View, reschedule or cancel')),
      ));
      document.querySelector('.confirmation').focus();
      postToParent({ type: 'booked', code: receipt.code, status: receipt.status, starts_at: receipt.starts_at });
    };

    const customer = customerAccount({
      host: accountBox,
      locations: state.locations,
      services: state.services,
      onChange: () => renderDetails(false),
    });
    render();
    customer.start();
    // Ready the device token while the booker chooses, so booking does not wait for it.
    if (device.supported()) device.token().catch(() => { /* retried when booking */ });
    watch((change) => state.picker && state.picker.changed(change));
  };

  // ---------- the manage page ----------
  const managePage = async () => {
    const code = app.dataset.code;
    const token = new URLSearchParams(location.search).get('token') || '';
    const zone = app.dataset.zone;
    const q = `?token=${encodeURIComponent(token)}`;
    const res = await api('GET', `/v1/public/bookings/${encodeURIComponent(code)}${q}`);
    app.querySelector('.loading')?.remove();
    if (!res.ok) { app.append(h('p', { class: 'error', role: 'alert' }, problemText(res, 'This booking could not be found.'))); return; }
    let booking = res.data;
    // Paid bookings: what was paid, what is due at the appointment, and what cancelling now refunds.
    const loadPayment = async () => {
      const p = await api('GET', `/v1/public/bookings/${encodeURIComponent(code)}/payment${q}`);
      return p.ok && p.data.amount_paid_cents > 0 ? p.data : null;
    };
    let payment = await loadPayment();
    const money = (cents) => {
      const f = new Intl.NumberFormat(undefined, { style: 'currency', currency: payment.currency });
      return f.format(cents / 10 ** (f.resolvedOptions().maximumFractionDigits ?? 2));
    };
    const refundNow = () => (payment.refund_if_cancelled_cents === payment.amount_paid_cents
      ? `all of it (${money(payment.amount_paid_cents)})`
      : payment.refund_if_cancelled_cents > 0 ? `${money(payment.refund_if_cancelled_cents)} of ${money(payment.amount_paid_cents)}` : 'nothing');
    const paymentRows = () => (payment ? [
      h('dt', {}, 'Paid'), h('dd', { class: 'paid' }, money(payment.amount_paid_cents)),
      payment.amount_due_cents > 0 ? h('dt', {}, 'Due at the appointment') : null,
      payment.amount_due_cents > 0 ? h('dd', { class: 'due' }, money(payment.amount_due_cents)) : null,
      payment.refund_if_cancelled_cents !== null ? h('dt', {}, 'If you cancel now') : null,
      payment.refund_if_cancelled_cents !== null ? h('dd', { class: 'refund-quote' }, `you get back ${refundNow()}`
        + (payment.full_refund_until && payment.refund_if_cancelled_cents === payment.amount_paid_cents ? ` (full refund until ${dateLong(payment.full_refund_until, zone)}, ${timeOf(payment.full_refund_until, zone)})` : '')) : null,
      payment.refund ? h('dt', {}, 'Refund') : null,
      payment.refund ? h('dd', { class: 'refund' }, payment.refund.amount_cents > 0 ? `${money(payment.refund.amount_cents)} to the card you paid with` : 'none, under the cancellation policy') : null,
    ] : []);
    const body = h('div', {});
    app.append(body);
    const active = () => ['held', 'pending', 'confirmed'].includes(booking.status);
    const show = (message) => {
      body.replaceChildren(
        message ? h('p', { class: 'notice', role: 'status' }, message) : null,
        h('dl', { class: 'summary' },
          h('dt', {}, 'Code'), h('dd', { class: 'code' }, booking.code),
          h('dt', {}, 'Status'), h('dd', { class: 'status' }, booking.status),
          h('dt', {}, 'When'), h('dd', {}, `${dateLong(booking.starts_at, zone)}, ${timeOf(booking.starts_at, zone)}–${timeOf(booking.ends_at, zone)} (${zone})`),
          ...paymentRows()),
        active() ? h('div', { class: 'actions' },
          booking.status === 'held' ? h('button', { type: 'button', class: 'primary', onclick: async () => {
            const failed = await payForBooking(code, token);
            if (failed) show(problemText(failed, 'Payment could not be started.'));
          } }, 'Pay now') : null,
          h('button', { type: 'button', onclick: () => reschedule() }, 'Reschedule'),
          h('button', { type: 'button', class: 'danger', onclick: () => cancel() }, 'Cancel booking')) : null,
      );
    };
    const cancel = async () => {
      payment = await loadPayment();
      if (!window.confirm(payment && payment.refund_if_cancelled_cents !== null ? `Cancel this booking? You get back ${refundNow()}.` : 'Cancel this booking?')) return;
      const r = await api('DELETE', `/v1/public/bookings/${encodeURIComponent(code)}${q}`);
      if (r.ok) { booking = r.data; payment = await loadPayment(); show('Your booking is cancelled.'); announce('Your booking is cancelled.'); }
      else show(problemText(r, 'The booking could not be cancelled.'));
    };
    const reschedule = () => {
      const host = h('div', {});
      body.append(host);
      const picker = slotPicker({
        host, zone, label: 'Pick a new time',
        load: (from, to, z) => api('GET', `/v1/public/${encodeURIComponent(tenant)}/services/${booking.service_id}/slots?${new URLSearchParams({ from, to, timezone: z, location: booking.location_id })}`),
        choose: async (slot) => {
          const r = await api('PATCH', `/v1/public/bookings/${encodeURIComponent(code)}${q}`, slot.session_id ? { session_id: slot.session_id } : { starts_at: slot.starts_at, provider_id: slot.provider_id });
          if (r.ok) { booking = r.data; show('Your booking was moved.'); announce('Your booking was moved.'); }
          else if (r.status === 409) { announce('That time was just taken. Pick another.'); picker.refresh(); }
          else show(problemText(r, 'The booking could not be moved.'));
        },
      });
      watch((change) => picker.changed(change));
    };
    // Back from Stripe Checkout: the payment is confirmed by Stripe's webhook, maybe a moment later.
    const returned = new URLSearchParams(location.search).get('checkout');
    show(returned === 'success'
      ? (booking.status === 'held' ? 'Payment received. Your booking is confirmed as soon as the payment is processed; reload in a moment.' : 'Payment received. Thank you!')
      : returned === 'cancelled' && booking.status === 'held' ? 'Payment was cancelled. Your time is still held for a while: pay now to keep it.' : undefined);
  };

  (page === 'manage' ? managePage() : bookingPage()).catch((error) => {
    app.append(h('p', { class: 'error', role: 'alert' }, 'Something went wrong loading this page.'));
    console.error(error);
  });
})();
