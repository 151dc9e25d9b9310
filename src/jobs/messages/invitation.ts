import { catalogFor, formatStart, type RenderedEmail } from './index.ts';

/**
 * The staff invitation email (task `staff_invitation`), in the tenant's language. It is not about a
 * booking, so it has its own words per language here rather than in the booking catalogs of
 * ./locales/: a language without an entry falls back to English, like the booking messages do.
 */
export interface InvitationFields {
  tenantName: string;
  /** The invited email (the account they will have). */
  email: string;
  role: 'owner' | 'admin' | 'receptionist' | 'provider' | 'viewer';
  /** The branch they will be scoped to, if any. */
  locationName: string | null;
  /** Who invited them (name, or email). */
  inviterName: string | null;
  expiresAt: Date;
  timeZone: string;
  acceptUrl: string;
}

interface InvitationCopy {
  subject(m: InvitationFields): string;
  greeting: string;
  lead(m: InvitationFields, role: string): string[];
  after: string;
  labels: { business: string; role: string; location: string; email: string; expires: string; accept: string };
  roles: Record<InvitationFields['role'], string>;
  footer(tenantName: string): string;
}

const COPY: Record<string, InvitationCopy> = {
  en: {
    subject: (m) => `You are invited to join ${m.tenantName} on Slotbase`,
    greeting: 'Hello,',
    lead: (m, role) => [
      `${m.inviterName ?? 'A colleague'} invites you to join ${m.tenantName} on Slotbase as ${role}.`,
      'Follow the link to choose your password; your account is created when you accept.',
    ],
    after: 'If you did not expect this invitation, ignore this email: nothing happens without the link.',
    labels: { business: 'Business', role: 'Role', location: 'Location', email: 'Your sign-in', expires: 'Link valid until', accept: 'Accept the invitation' },
    roles: { owner: 'owner', admin: 'administrator', receptionist: 'receptionist', provider: 'provider', viewer: 'viewer' },
    footer: (tenant) => `Sent by ${tenant} via Slotbase.`,
  },
  de: {
    subject: (m) => `Einladung: ${m.tenantName} auf Slotbase`,
    greeting: 'Hallo,',
    lead: (m, role) => [
      `${m.inviterName ?? 'Eine Kollegin oder ein Kollege'} lädt Sie ein, ${m.tenantName} auf Slotbase als ${role} beizutreten.`,
      'Über den Link wählen Sie Ihr Passwort; Ihr Konto wird angelegt, wenn Sie annehmen.',
    ],
    after: 'Falls Sie diese Einladung nicht erwartet haben, ignorieren Sie diese E-Mail: Ohne den Link passiert nichts.',
    labels: { business: 'Unternehmen', role: 'Rolle', location: 'Standort', email: 'Ihre Anmeldung', expires: 'Link gültig bis', accept: 'Einladung annehmen' },
    roles: { owner: 'Inhaber:in', admin: 'Administrator:in', receptionist: 'Empfang', provider: 'Behandler:in', viewer: 'Leserecht' },
    footer: (tenant) => `Gesendet von ${tenant} über Slotbase.`,
  },
};

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** The invitation email in the tenant's language (its base language, else English). */
export function renderInvitationEmail(locale: string | null | undefined, m: InvitationFields): RenderedEmail {
  const intl = catalogFor(locale).intl;
  const copy = COPY[intl] ?? COPY[intl.split('-')[0]!] ?? COPY.en!;
  const role = copy.roles[m.role];
  const l = copy.labels;
  const details: [string, string][] = [
    [l.business, m.tenantName],
    [l.role, role],
    ...(m.locationName ? ([[l.location, m.locationName]] as [string, string][]) : []),
    [l.email, m.email],
    [l.expires, formatStart(m.expiresAt, m.timeZone, intl)],
  ];
  const subject = copy.subject(m);
  const lead = copy.lead(m, role);
  const footer = copy.footer(m.tenantName);
  const text = [
    copy.greeting,
    '',
    ...lead.flatMap((p) => [p, '']),
    ...details.map(([k, v]) => `${k}: ${v}`),
    '',
    `${l.accept}:`,
    m.acceptUrl,
    '',
    copy.after,
    '',
    '-- ',
    footer,
    '',
  ].join('\n');
  const html = `<!doctype html>
<html lang="${escapeHtml(intl)}"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>
<body style="font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2933;line-height:1.5">
<p>${escapeHtml(copy.greeting)}</p>
${lead.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}
<table role="presentation" style="border-collapse:collapse;margin:16px 0">
${details.map(([k, v]) => `<tr><th align="left" style="padding:4px 16px 4px 0;font-weight:600;vertical-align:top">${escapeHtml(k)}</th><td style="padding:4px 0">${escapeHtml(v)}</td></tr>`).join('\n')}
</table>
<p><a href="${escapeHtml(m.acceptUrl)}" style="display:inline-block;padding:10px 16px;background:#2563eb;color:#fff;text-decoration:none;border-radius:6px">${escapeHtml(l.accept)}</a></p>
<p>${escapeHtml(copy.after)}</p>
<p style="color:#6b7280;font-size:12px">${escapeHtml(footer)}</p>
</body></html>
`;
  return { subject, text, html };
}
