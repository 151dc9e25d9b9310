// Slotbase invitation page (/invite?token=…). Plain browser JavaScript, no build step. Shows what
// the invitation offers (GET /v1/auth/accept-invite), asks for a name and a password (or the
// existing account's password), accepts it (POST /v1/auth/accept-invite) and opens the staff
// console signed in: the session goes where the console keeps it (sessionStorage, this tab only).
(() => {
  'use strict';
  const app = document.getElementById('invite-app');
  if (!app) return;
  const CONSOLE_SESSION = 'slotbase.console.session';
  const token = new URLSearchParams(location.search).get('token') || '';
  const ROLES = { owner: 'owner', admin: 'admin', receptionist: 'receptionist', provider: 'provider', viewer: 'viewer' };

  const h = (tag, attrs = {}, ...children) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
    return el;
  };
  const request = async (method, path, body) => {
    try {
      const res = await fetch(path, {
        method,
        headers: { accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
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
  const problemText = (p) => (p && p.title ? p.title : 'Something went wrong') + (p && p.code ? ` (${p.code})` : '');
  const main = (...children) => {
    app.replaceChildren(h('header', {}, h('p', { class: 'business' }, 'Slotbase'), h('h1', { id: 'title', tabindex: '-1' }, 'Accept your invitation')), ...children);
    app.querySelector('#title').focus();
  };
  const gone = (problem) =>
    main(h('p', { class: 'notice', role: 'alert', id: 'invite-problem' }, problemText(problem)),
      h('p', {}, 'Ask the person who invited you to send a new invitation.'));

  const field = (id, label, attrs = {}, hint) =>
    h('div', { class: 'field' },
      h('label', { for: id }, label),
      hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
      h('input', { id, name: id, 'aria-describedby': hint ? `${id}-hint ${id}-error` : `${id}-error`, ...attrs }),
      h('p', { class: 'field-error', id: `${id}-error` }));

  const form = (invitation) => {
    const where = invitation.location ? ` at ${invitation.location.name}` : '';
    const status = h('p', { class: 'form-status', role: 'status', id: 'invite-status' });
    const button = h('button', { type: 'submit', class: 'primary' }, 'Join');
    const existing = invitation.has_account;
    const f = h('form', { class: 'step', novalidate: true, 'aria-labelledby': 'title' },
      h('p', { class: 'intro' }, `${invitation.tenant.name} invites ${invitation.email} to join as ${ROLES[invitation.role] || invitation.role}${where}.`),
      existing
        ? h('p', { class: 'hint' }, 'This email already has a Slotbase account: sign in with its password to accept.')
        : field('display-name', 'Your name', { type: 'text', autocomplete: 'name', maxlength: 200 }),
      field('password', existing ? 'Your password' : 'Choose a password', {
        type: 'password', required: true, minlength: 10, maxlength: 200, autocomplete: existing ? 'current-password' : 'new-password',
      }, existing ? undefined : 'At least 10 characters.'),
      status,
      h('div', { class: 'actions' }, button));
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      for (const el of f.querySelectorAll('.field-error')) el.textContent = '';
      status.textContent = '';
      const password = f.querySelector('#password').value;
      if (!existing && password.length < 10) {
        f.querySelector('#password-error').textContent = 'Use at least 10 characters.';
        f.querySelector('#password').setAttribute('aria-invalid', 'true');
        f.querySelector('#password').focus();
        return;
      }
      const name = existing ? '' : f.querySelector('#display-name').value.trim();
      button.disabled = true;
      button.textContent = 'Joining…';
      const res = await request('POST', '/v1/auth/accept-invite', { token, password, ...(name ? { display_name: name } : {}) });
      button.disabled = false;
      button.textContent = 'Join';
      if (res.ok) {
        try { sessionStorage.setItem(CONSOLE_SESSION, JSON.stringify(res.data)); } catch { /* private mode: sign in on the console */ }
        main(h('p', { role: 'status', id: 'invite-done' }, `Welcome to ${invitation.tenant.name}. Opening the console…`));
        location.assign('/console');
        return;
      }
      if (res.status === 410 || res.status === 404) return gone(res.data);
      status.textContent = problemText(res.data);
      if (res.data && res.data.code === 'invalid_credentials') f.querySelector('#password').focus();
    });
    return f;
  };

  (async () => {
    if (!token) return gone({ title: 'This link has no invitation token', code: 'invitation_not_found' });
    const res = await request('GET', `/v1/auth/accept-invite?token=${encodeURIComponent(token)}`);
    if (!res.ok) return gone(res.data);
    main(form(res.data));
  })();
})();
