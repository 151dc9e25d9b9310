// Slotbase sign-up and guided setup (/signup). Plain browser JavaScript, no build step. A business
// creates its tenant and owner account (POST /v1/signup), then sets up a first location, a provider
// with weekly hours and a service through the published staff API, and gets its booking link and
// embed snippet. The session lives in memory and sessionStorage (this tab only); what was typed is
// kept there too (never the password), so a reload or an error loses nothing.
(() => {
  'use strict';
  const app = document.getElementById('signup-app');
  if (!app) return;
  const KEY = 'slotbase.onboarding';
  const STEPS = [
    ['account', 'Account'],
    ['location', 'Location'],
    ['provider', 'Hours'],
    ['service', 'Service'],
    ['look', 'Look'],
    ['done', 'Done'],
  ];
  const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

  const restore = () => {
    try { return JSON.parse(sessionStorage.getItem(KEY) || 'null'); } catch { return null; }
  };
  const state = restore() || { step: 'account', session: null, created: {}, values: {} };
  const save = () => { try { sessionStorage.setItem(KEY, JSON.stringify(state)); } catch { /* private mode: memory only */ } };

  // ---------- helpers ----------
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
  const request = async (method, path, body, token) => {
    try {
      const res = await fetch(path, {
        method,
        headers: {
          accept: 'application/json',
          ...(body ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      let data = null;
      try { data = text ? JSON.parse(text) : null; } catch { data = null; }
      return { status: res.status, ok: res.ok, data };
    } catch {
      return { status: 0, ok: false, data: { title: 'Could not reach Slotbase. Check your connection and try again.' } };
    }
  };
  /** A staff call with the owner's token; an expired token is refreshed once, then retried. */
  const staff = async (method, path, body) => {
    let res = await request(method, path, body, state.session && state.session.access_token);
    if (res.status === 401 && state.session && state.session.refresh_token) {
      const fresh = await request('POST', '/v1/auth/refresh', { refresh_token: state.session.refresh_token });
      if (fresh.ok) {
        state.session = fresh.data;
        save();
        res = await request(method, path, body, state.session.access_token);
      }
    }
    return res;
  };
  const zones = (() => {
    let list = [];
    try { list = Intl.supportedValuesOf('timeZone'); } catch { list = []; }
    return [...new Set([...list, browserZone, 'UTC'])].sort();
  })();
  const slugify = (text) =>
    text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  const value = (id, fallback = '') => (state.values[id] !== undefined ? state.values[id] : fallback);

  /** A labelled control with its hint and its error line, remembered as it is typed. */
  const field = ({ id, label, hint, type = 'text', remember = true, fallback = '', options, ...attrs }) => {
    const describedBy = [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(' ');
    const onInput = (e) => {
      if (!remember) return;
      state.values[id] = e.target.value;
      save();
    };
    const control = options
      ? h('select', { id, name: id, 'aria-describedby': describedBy, onchange: onInput, ...attrs },
          options.map((o) => h('option', { value: o, selected: o === value(id, fallback) }, o)))
      : h('input', { id, name: id, type, value: remember ? value(id, fallback) : '', 'aria-describedby': describedBy, oninput: onInput, ...attrs });
    return h('div', { class: 'field' },
      h('label', { for: id }, label),
      hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
      control,
      h('p', { class: 'field-error', id: `${id}-error` }));
  };

  const progress = () =>
    h('ol', { class: 'progress', 'aria-label': 'Setup steps' },
      STEPS.map(([key, label], i) => {
        const current = STEPS.findIndex(([k]) => k === state.step);
        return h('li', { class: i < current ? 'done' : i === current ? 'current' : null, 'aria-current': i === current ? 'step' : null },
          i < current ? h('span', { class: 'visually-hidden' }, 'Completed: ') : null, label);
      }));

  /**
   * One step: a form with a focused heading, its fields and a status line. `submit(form)` does the
   * API calls and returns true when the step is complete.
   */
  const stepForm = ({ title, intro, fields, submitLabel, submit, secondary }) => {
    const heading = h('h2', { id: 'step-title', tabindex: '-1' }, title);
    const status = h('p', { class: 'form-status', id: 'step-status', role: 'alert' });
    const button = h('button', { type: 'submit', class: 'primary' }, submitLabel);
    const form = h('form', { class: 'step', novalidate: true, 'aria-labelledby': 'step-title' },
      heading, intro ? h('p', { class: 'intro' }, intro) : null, fields, status,
      h('div', { class: 'actions' }, button, secondary || null));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(form);
      button.disabled = true;
      const label = button.textContent;
      button.textContent = 'Saving…';
      let done = false;
      try { done = await submit(form); } finally { button.disabled = false; button.textContent = label; }
      if (done) render();
    });
    return form;
  };
  const clearErrors = (form) => {
    for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    form.querySelector('.form-status').textContent = '';
  };
  const markField = (form, id, message) => {
    const input = form.querySelector(`#${id}`);
    const line = form.querySelector(`#${id}-error`);
    if (!input || !line) return null;
    input.setAttribute('aria-invalid', 'true');
    line.textContent = message;
    return input;
  };
  /**
   * Shows a problem+json answer: field errors at their fields (`fieldMap` maps the API's field
   * names to input ids; `messages` may reword a code per field), the rest in the status line.
   */
  const showProblem = (form, res, fieldMap, messages = {}) => {
    const status = form.querySelector('.form-status');
    const data = res.data || {};
    let first = null;
    for (const err of Array.isArray(data.errors) ? data.errors : []) {
      const id = fieldMap[err.field];
      if (!id) continue;
      const message = messages[`${data.code}:${err.field}`] || err.message;
      const input = markField(form, id, message);
      first ??= input;
    }
    if (first) {
      status.textContent = 'Please check the highlighted fields.';
      first.focus();
    } else {
      status.textContent = data.detail || data.title || 'Something went wrong. Please try again.';
      status.setAttribute('tabindex', '-1');
      status.focus();
    }
    return false;
  };
  const fail = (form, id, message) => {
    const input = markField(form, id, message);
    form.querySelector('.form-status').textContent = 'Please check the highlighted fields.';
    input && input.focus();
    return false;
  };
  const read = (form, id) => form.querySelector(`#${id}`).value.trim();

  // ---------- steps ----------
  const accountStep = () => {
    const slugHint = () => `Your booking page will be at ${location.origin}/b/${value('slug') || 'your-business'}`;
    const form = stepForm({
      title: 'Your business',
      intro: 'Create your account and your booking page. It takes about two minutes.',
      fields: [
        field({ id: 'business-name', label: 'Business name', autocomplete: 'organization', required: true, maxlength: 200 }),
        field({ id: 'slug', label: 'Booking link', hint: slugHint(), required: true, maxlength: 63, autocapitalize: 'none', spellcheck: 'false' }),
        field({ id: 'tenant-zone', label: 'Time zone', options: zones, fallback: browserZone }),
        field({ id: 'owner-name', label: 'Your name (optional)', autocomplete: 'name', maxlength: 200 }),
        field({ id: 'email', label: 'Your email', type: 'email', autocomplete: 'email', required: true, maxlength: 254 }),
        field({ id: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', required: true, minlength: 10, maxlength: 200, remember: false, hint: 'At least 10 characters.' }),
      ],
      submitLabel: 'Create my account',
      submit: async (form) => {
        const body = {
          email: read(form, 'email'),
          password: form.querySelector('#password').value,
          ...(read(form, 'owner-name') ? { name: read(form, 'owner-name') } : {}),
          tenant: { slug: read(form, 'slug'), name: read(form, 'business-name'), time_zone: form.querySelector('#tenant-zone').value },
        };
        const res = await request('POST', '/v1/signup', body);
        if (res.status !== 201) {
          return showProblem(form, res,
            { email: 'email', password: 'password', name: 'owner-name', 'tenant.name': 'business-name', 'tenant.slug': 'slug', slug: 'slug', slug_reserved: 'slug', 'tenant.time_zone': 'tenant-zone', time_zone: 'tenant-zone' },
            { 'already_exists:slug': 'This booking link is taken. Please choose another.', 'already_exists:email': 'An account with this email already exists.' });
        }
        state.session = res.data;
        state.step = 'location';
        save();
        return true;
      },
    });
    // The link follows the business name until it is edited by hand.
    const name = form.querySelector('#business-name');
    const slug = form.querySelector('#slug');
    const hint = form.querySelector('#slug-hint');
    name.addEventListener('input', () => {
      if (state.values.slugEdited) return;
      slug.value = slugify(name.value);
      state.values.slug = slug.value;
      hint.textContent = slugHint();
      save();
    });
    slug.addEventListener('input', () => { state.values.slugEdited = true; hint.textContent = slugHint(); save(); });
    return form;
  };

  const locationStep = () =>
    stepForm({
      title: 'Where you see customers',
      intro: 'Your first location. You can add more later.',
      fields: [
        field({ id: 'location-name', label: 'Location name', required: true, maxlength: 200, fallback: value('business-name') }),
        field({ id: 'location-zone', label: 'Location time zone', options: zones, fallback: value('tenant-zone', browserZone) }),
      ],
      submitLabel: 'Save and continue',
      submit: async (form) => {
        const res = await staff('POST', '/v1/locations', { name: read(form, 'location-name'), time_zone: form.querySelector('#location-zone').value });
        if (res.status !== 201) return showProblem(form, res, { name: 'location-name', time_zone: 'location-zone' });
        state.created.location_id = res.data.id;
        state.step = 'provider';
        save();
        return true;
      },
    });

  const providerStep = () => {
    const days = value('weekdays', '1,2,3,4,5').split(',').filter(Boolean);
    const remember = () => {
      state.values.weekdays = [...document.querySelectorAll('input[name="weekday"]:checked')].map((el) => el.value).join(',');
      save();
    };
    return stepForm({
      title: 'Who takes the appointments',
      intro: 'Your first provider (you, or someone on your team) and their weekly hours.',
      fields: [
        field({ id: 'provider-name', label: 'Provider name', required: true, maxlength: 200, fallback: value('owner-name') }),
        h('fieldset', { class: 'weekdays', 'aria-describedby': 'weekdays-error' },
          h('legend', {}, 'Working days'),
          h('div', { class: 'checks' }, WEEKDAYS.map((day, i) =>
            h('label', { class: 'choice' },
              h('input', { type: 'checkbox', name: 'weekday', id: `weekday-${i + 1}`, value: String(i + 1), checked: days.includes(String(i + 1)), onchange: remember }),
              h('span', {}, day)))),
          h('p', { class: 'field-error', id: 'weekdays-error' })),
        h('div', { class: 'row' },
          field({ id: 'start-time', label: 'From', type: 'time', fallback: '09:00', required: true }),
          field({ id: 'end-time', label: 'Until', type: 'time', fallback: '17:00', required: true })),
      ],
      submitLabel: 'Save and continue',
      submit: async (form) => {
        const weekdays = [...form.querySelectorAll('input[name="weekday"]:checked')].map((el) => Number(el.value));
        const start = read(form, 'start-time');
        const end = read(form, 'end-time');
        if (weekdays.length === 0) {
          form.querySelector('#weekdays-error').textContent = 'Pick at least one day.';
          form.querySelector('.form-status').textContent = 'Please check the highlighted fields.';
          form.querySelector('input[name="weekday"]').focus();
          return false;
        }
        if (!/^\d\d:\d\d$/.test(start)) return fail(form, 'start-time', 'Enter a time such as 09:00.');
        if (!/^\d\d:\d\d$/.test(end)) return fail(form, 'end-time', 'Enter a time such as 17:00.');
        if (end <= start) return fail(form, 'end-time', 'The end must be after the start.');
        const { created } = state;
        if (!created.provider_id) {
          const res = await staff('POST', '/v1/providers', { name: read(form, 'provider-name'), location_id: created.location_id });
          if (res.status !== 201) return showProblem(form, res, { name: 'provider-name' });
          created.provider_id = res.data.id;
          created.weekdays = [];
          save();
        }
        for (const weekday of weekdays) {
          if (created.weekdays.includes(weekday)) continue;
          const res = await staff('POST', `/v1/providers/${created.provider_id}/availability-rules`, {
            location_id: created.location_id, weekday, start_time: start, end_time: end,
          });
          if (res.status !== 201) return showProblem(form, res, { start_time: 'start-time', end_time: 'end-time', time_range: 'end-time' });
          created.weekdays.push(weekday);
          save();
        }
        state.step = 'service';
        save();
        return true;
      },
    });
  };

  const serviceStep = () =>
    stepForm({
      title: 'What customers can book',
      intro: 'Your first service. Price, buffers and notice periods can be set later through the API.',
      fields: [
        field({ id: 'service-name', label: 'Service name', required: true, maxlength: 200, fallback: 'Appointment' }),
        field({ id: 'duration', label: 'Duration (minutes)', type: 'number', min: 5, max: 1440, step: 5, fallback: '30', required: true }),
      ],
      submitLabel: 'Save and continue',
      submit: async (form) => {
        const { created } = state;
        const duration = Number(read(form, 'duration'));
        if (!Number.isInteger(duration) || duration < 1) return fail(form, 'duration', 'Enter the length in whole minutes, such as 30.');
        if (!created.service_id) {
          const name = read(form, 'service-name');
          const res = await staff('POST', '/v1/services', { name, slug: slugify(name) || 'appointment', duration_minutes: duration });
          if (res.status !== 201) return showProblem(form, res, { name: 'service-name', slug: 'service-name', duration_minutes: 'duration' });
          created.service_id = res.data.id;
          save();
        }
        const link = await staff('POST', `/v1/services/${created.service_id}/providers/${created.provider_id}`);
        if (link.status !== 204) return showProblem(form, link, {});
        state.step = 'look';
        save();
        return true;
      },
    });

  const lookStep = () =>
    stepForm({
      title: 'Make it yours',
      intro: 'Optional: your colour and logo on the booking page.',
      fields: [
        field({ id: 'brand-color', label: 'Brand colour', type: 'color', fallback: '#0b57d0' }),
        field({ id: 'logo-url', label: 'Logo address (optional)', type: 'url', hint: 'An https:// link to an image of your logo.', maxlength: 2000, placeholder: 'https://' }),
      ],
      submitLabel: 'Save and continue',
      secondary: h('button', { type: 'button', onclick: () => { state.step = 'done'; save(); render(); } }, 'Skip'),
      submit: async (form) => {
        const color = read(form, 'brand-color');
        const logo = read(form, 'logo-url');
        if (!/^#[0-9a-fA-F]{6}$/.test(color)) return fail(form, 'brand-color', 'Pick a colour.');
        if (logo && !/^https:\/\/[^\s"'<>]+$/.test(logo)) return fail(form, 'logo-url', 'Use an address that starts with https://');
        // PATCH replaces the settings object: keep what is there.
        const current = await staff('GET', '/v1/tenant');
        if (!current.ok) return showProblem(form, current, {});
        const settings = { ...(current.data.settings || {}), brand_color: color };
        if (logo) settings.logo_url = logo;
        else delete settings.logo_url;
        const res = await staff('PATCH', '/v1/tenant', { settings });
        if (!res.ok) return showProblem(form, res, {});
        state.step = 'done';
        save();
        return true;
      },
    });

  const doneStep = () => {
    const slug = state.session.tenant.slug;
    const link = `${location.origin}/b/${slug}`;
    const snippet = `<script src="${location.origin}/embed.js" data-slotbase-tenant="${slug}"></script>`;
    const copied = h('p', { class: 'hint', id: 'copy-status', role: 'status' });
    const textarea = h('textarea', { id: 'embed-snippet', readonly: true, rows: 3, spellcheck: 'false' });
    textarea.value = snippet;
    const copy = async () => {
      try {
        await navigator.clipboard.writeText(snippet);
      } catch {
        textarea.select();
        document.execCommand('copy');
      }
      copied.textContent = 'Copied to the clipboard.';
    };
    return h('section', { class: 'step done', 'aria-labelledby': 'step-title' },
      h('h2', { id: 'step-title', tabindex: '-1' }, 'Your booking page is live'),
      h('p', {}, 'Share this link with your customers:'),
      h('p', { class: 'booking-link' }, h('a', { href: link, id: 'booking-link' }, link)),
      h('h3', {}, 'Embed it on your website'),
      h('p', {}, 'Paste this where the booking form should appear:'),
      h('div', { class: 'field' }, h('label', { for: 'embed-snippet' }, 'Embed code'), textarea),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: copy }, 'Copy embed code')),
      copied,
      h('p', {}, 'See and manage your bookings in the ', h('a', { href: '/console' }, 'staff console'), ' (sign in with the email and password you just chose). Everything is also in the API: ', h('a', { href: '/docs' }, 'API reference'), '.'),
      h('p', {}, h('button', { type: 'button', class: 'link-button', onclick: () => {
        try { sessionStorage.removeItem(KEY); } catch { /* nothing stored */ }
        location.reload();
      } }, 'Set up another business')));
  };

  const render = () => {
    if (state.step !== 'account' && !state.session) state.step = 'account';
    const views = { account: accountStep, location: locationStep, provider: providerStep, service: serviceStep, look: lookStep, done: doneStep };
    app.querySelector('.loading')?.remove();
    let host = app.querySelector('.onboarding-body');
    if (!host) { host = h('div', { class: 'onboarding-body' }); app.append(host); }
    host.replaceChildren(progress(), (views[state.step] || accountStep)());
    if (rendered) host.querySelector('#step-title').focus();
    rendered = true;
  };
  let rendered = false;
  render();
})();
