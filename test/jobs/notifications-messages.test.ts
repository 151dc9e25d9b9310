import { describe, expect, it } from 'vitest';
import { availableLocales, catalogFor, renderEmail, type MessageFields } from '#src/jobs/messages/index.ts';

const fields: MessageFields = {
  tenantName: 'Sunrise <Clinic> & Co',
  serviceName: 'Check-up',
  providerName: 'Dr. Weiss',
  locationName: 'Mitte',
  locationAddress: 'Hauptstr. 1',
  contactName: 'Ada "<script>"',
  contactEmail: 'ada@example.com',
  contactPhone: null,
  code: 'BK-7F3K9QM',
  when: 'Monday, March 1, 2027, 10:00 – 10:30 AM (Europe/Berlin)',
  whenShort: 'Mar 1, 2027, 10:00 AM (Europe/Berlin)',
  bookingId: 'e4f5a6b7-c8d9-4e0f-9a1b-2c3d4e5f6a7b',
  manageUrl: 'https://book.example/b/manage/BK-7F3K9QM?token=a&b',
};

describe('message templates', () => {
  it('ships English and German; a regional tag falls back to its language, an unknown one to English', () => {
    expect(availableLocales()).toEqual(expect.arrayContaining(['de', 'en']));
    expect(catalogFor('de-AT').intl).toBe('de');
    expect(catalogFor('fr').intl).toBe('en');
    expect(catalogFor(undefined).intl).toBe('en');
  });

  it('every language renders every template with the booking code, in text and HTML', () => {
    for (const tag of availableLocales()) {
      for (const template of ['confirmation', 'reminder', 'rescheduled', 'cancelled', 'rejected', 'approval_request'] as const) {
        const mail = renderEmail(catalogFor(tag), template, { ...fields, previousWhen: 'earlier', reason: 'away' });
        expect(mail.subject.length, `${tag} ${template}`).toBeGreaterThan(5);
        expect(mail.text, `${tag} ${template}`).toContain('BK-7F3K9QM');
        expect(mail.html, `${tag} ${template}`).toContain('BK-7F3K9QM');
      }
    }
  });

  it('HTML escapes what tenants and bookers typed', () => {
    const { html, text } = renderEmail(catalogFor('en'), 'confirmation', fields);
    expect(html).not.toContain('<script>');
    expect(html).toContain('Ada &quot;&lt;script&gt;&quot;');
    expect(html).toContain('Sunrise &lt;Clinic&gt; &amp; Co');
    expect(html).toContain('href="https://book.example/b/manage/BK-7F3K9QM?token=a&amp;b"');
    expect(text).toContain('https://book.example/b/manage/BK-7F3K9QM?token=a&b');
  });
});
