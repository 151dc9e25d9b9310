import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EmailCopy, LocaleCatalog, MessageFields, Template } from './types.ts';

export type { LocaleCatalog, MessageFields, Template } from './types.ts';

/**
 * Message templates in the tenant's language (tenants.locale). Each file in ./locales/ is a
 * language, named by its tag; a tenant whose locale has no file falls back to its base language
 * (`de-AT` → `de`), then to English.
 */
const LOCALES_DIR = join(dirname(fileURLToPath(import.meta.url)), 'locales');
const catalogs = new Map<string, LocaleCatalog>(
  await Promise.all(
    readdirSync(LOCALES_DIR)
      .filter((f) => /^[a-z]{2}(-[A-Z]{2})?\.ts$/.test(f))
      .map(async (f): Promise<[string, LocaleCatalog]> => [
        basename(f, '.ts'),
        ((await import(pathToFileURL(join(LOCALES_DIR, f)).href)) as { default: LocaleCatalog }).default,
      ]),
  ),
);

export const availableLocales = (): string[] => [...catalogs.keys()].sort();

export function catalogFor(locale: string | null | undefined): LocaleCatalog {
  const tag = locale ?? 'en';
  return catalogs.get(tag) ?? catalogs.get(tag.split('-')[0]!) ?? catalogs.get('en')!;
}

/**
 * Intl.DateTimeFormat objects are costly to build (the profile of the worker benchmark had them as
 * the largest JavaScript cost of a confirmation mail) and immutable: one per (style, zone, language).
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(dateStyle: 'full' | 'medium', zone: string, intl: string): Intl.DateTimeFormat {
  const key = `${dateStyle}|${zone}|${intl}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(intl, { dateStyle, timeStyle: 'short', timeZone: zone });
    if (formatters.size >= 1000) formatters.clear();
    formatters.set(key, f);
  }
  return f;
}

/** "Monday, March 1, 2027, 6:00 – 6:30 PM (Asia/Tokyo)": the range on its date in `zone`, in the reader's language. */
export function formatWhen(start: Date, end: Date, zone: string, intl: string): string {
  return `${formatter('full', zone, intl).formatRange(start, end)} (${zone})`;
}

/** "Mar 1, 2027, 6:00 PM (Asia/Tokyo)": a start, short. */
export function formatWhenShort(start: Date, zone: string, intl: string): string {
  return `${formatter('medium', zone, intl).format(start)} (${zone})`;
}

/** "Monday, March 1, 2027 at 6:00 PM (Asia/Tokyo)": a start, long. */
export function formatStart(start: Date, zone: string, intl: string): string {
  return `${formatter('full', zone, intl).format(start)} (${zone})`;
}

/** An amount in Stripe's smallest currency unit, formatted in the reader's language (zero-decimal currencies such as JPY included). */
export function formatMoney(cents: number, currency: string, intl: string): string {
  const format = new Intl.NumberFormat(intl, { style: 'currency', currency });
  return format.format(cents / 10 ** (format.resolvedOptions().maximumFractionDigits ?? 2));
}

function refundTextOf(catalog: LocaleCatalog, r: NonNullable<MessageFields['refund']>): string {
  const kind = r.amountCents === 0 ? 'none' : r.amountCents >= r.paidCents ? 'full' : 'partial';
  return catalog.labels.refundText(formatMoney(r.amountCents, r.currency, catalog.intl), formatMoney(r.paidCents, r.currency, catalog.intl), kind);
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** One email in the catalog's language: plain text and HTML with the same words and details. */
export function renderEmail(catalog: LocaleCatalog, template: Template, m: MessageFields): RenderedEmail {
  const copy: EmailCopy = catalog.email[template](m);
  const l = catalog.labels;
  const details: [string, string][] = [
    [l.service, m.serviceName],
    [l.when, m.when],
    ...(m.previousWhen ? ([[l.previousWhen, m.previousWhen]] as [string, string][]) : []),
    [l.provider, m.providerName],
    [l.where, [m.locationName, m.locationAddress].filter(Boolean).join(', ')],
    ...(template === 'approval_request'
      ? ([[l.booker, [m.contactName, m.contactEmail, m.contactPhone].filter(Boolean).join(', ')]] as [string, string][])
      : []),
    ...(template === 'confirmation' || template === 'approval_request' ? (m.answers ?? []).map((a): [string, string] => [a.label, a.value]) : []),
    [l.code, m.code],
    ...(m.offerExpires ? ([[l.offerExpires, m.offerExpires]] as [string, string][]) : []),
    ...(m.reason ? ([[l.reason, m.reason]] as [string, string][]) : []),
    ...(m.refund ? ([[l.refund, refundTextOf(catalog, m.refund)]] as [string, string][]) : []),
  ];
  const manage = m.offerUrl ? { label: l.acceptOffer, url: m.offerUrl } : m.manageUrl ? { label: l.manage, url: m.manageUrl } : undefined;
  const footer = l.footer(m.tenantName);

  const text = [
    copy.greeting,
    '',
    ...copy.lead.flatMap((p) => [p, '']),
    ...details.map(([k, v]) => `${k}: ${v}`),
    '',
    ...(copy.after ?? []).flatMap((p) => [p, '']),
    ...(manage ? [`${manage.label}:`, manage.url, ''] : []),
    '-- ',
    footer,
    '',
  ].join('\n');

  const html = `<!doctype html>
<html lang="${escapeHtml(catalog.intl)}"><head><meta charset="utf-8"><title>${escapeHtml(copy.subject)}</title></head>
<body style="font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2933;line-height:1.5">
<p>${escapeHtml(copy.greeting)}</p>
${copy.lead.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}
<table role="presentation" style="border-collapse:collapse;margin:16px 0">
${details.map(([k, v]) => `<tr><th align="left" style="padding:4px 16px 4px 0;font-weight:600;vertical-align:top">${escapeHtml(k)}</th><td style="padding:4px 0">${escapeHtml(v)}</td></tr>`).join('\n')}
</table>
${(copy.after ?? []).map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}
${manage ? `<p><a href="${escapeHtml(manage.url)}" style="display:inline-block;padding:10px 16px;background:#2563eb;color:#fff;text-decoration:none;border-radius:6px">${escapeHtml(manage.label)}</a></p>` : ''}
<p style="color:#6b7280;font-size:12px">${escapeHtml(footer)}</p>
</body></html>
`;
  return { subject: copy.subject, text, html };
}

export function renderSms(catalog: LocaleCatalog, template: 'confirmation' | 'reminder', m: MessageFields): string {
  return catalog.sms[template](m);
}
