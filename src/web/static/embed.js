// Slotbase embed: <script src="https://HOST/embed.js" data-slotbase-tenant="acme" data-service="checkup"></script>
// inserts the booking page in an iframe right after the script tag, keeps the iframe as tall as
// its content, and dispatches `slotbase:booked` (detail: { code, status, starts_at }) on the
// script's parent element (it bubbles up to document) when a booking is made.
(() => {
  'use strict';
  const scripts = document.querySelectorAll('script[data-slotbase-tenant]:not([data-slotbase-ready])');
  for (const script of scripts) {
    script.setAttribute('data-slotbase-ready', '');
    const origin = new URL(script.src, location.href).origin;
    const tenant = script.getAttribute('data-slotbase-tenant');
    const service = script.getAttribute('data-service');
    const src = `${origin}/b/${encodeURIComponent(tenant)}${service ? `/${encodeURIComponent(service)}` : ''}?embed=1`;
    const frame = document.createElement('iframe');
    frame.src = src;
    frame.title = script.getAttribute('data-title') || 'Book an appointment';
    frame.loading = 'lazy';
    frame.style.cssText = 'width:100%;border:0;min-height:420px;display:block;';
    frame.setAttribute('allow', 'clipboard-write');
    script.after(frame);
    window.addEventListener('message', (event) => {
      if (event.origin !== origin || event.source !== frame.contentWindow) return;
      const data = event.data;
      if (!data || data.source !== 'slotbase') return;
      if (data.type === 'resize' && Number.isFinite(data.height)) frame.style.height = `${Math.max(200, data.height)}px`;
      if (data.type === 'booked') {
        frame.dispatchEvent(new CustomEvent('slotbase:booked', { bubbles: true, detail: { code: data.code, status: data.status, starts_at: data.starts_at } }));
      }
    });
  }
})();
