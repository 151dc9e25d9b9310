import { describe, expect, it } from 'vitest';
import { renderEmail } from '#src/jobs/messages/index.ts';
import { messageFieldsOf, type BookingContext } from '#src/jobs/notify.ts';

/** Answers to booking questions in the messages staff and bookers get (confirmation, approval request). */

const ctx = (locale: string): BookingContext => ({
  tenant_id: '3f2b8c1e-6a4d-4e0b-9c7a-1d5e8f2a4b60', booking_id: 'e4f5a6b7-c8d9-4e0f-9a1b-2c3d4e5f6a7b', code: 'BK-7F3K9QM',
  status: 'confirmed', status_reason: null, starts_at: new Date('2027-03-01T09:00:00Z'), ends_at: new Date('2027-03-01T09:30:00Z'),
  created_at: new Date('2027-02-01T09:00:00Z'), updated_at: new Date('2027-02-01T09:00:00Z'), tenant_name: 'Sunrise Clinic', locale, settings: {},
  location_id: '0b5a3c8e-4b7f-4f6e-9d36-0c5f8f2b9a11', location_name: 'Mitte', location_address: null, time_zone: 'Europe/Berlin',
  service_name: 'Check-up', provider_id: 'c7d1e2f3-8a9b-4c0d-a1e2-f3a4b5c6d7e8', provider_name: 'Dr. Weiss', provider_email: null,
  contact_name: 'Ada', contact_email: 'ada@example.com', contact_phone: null, manage_token: 'tok', sequence: 0, was_requested: true,
  answers: [
    { question_id: '8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', label: 'Reason <for> the visit', kind: 'text', value: 'Toothache & more' },
    { question_id: '9b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e', label: 'Topics', kind: 'multiple_choice', value: ['Teeth', 'Gums'] },
    { question_id: 'ac3d4e5f-6a7b-4c8d-ae9f-1a2b3c4d5e6f', label: 'I accept the policy', kind: 'checkbox', value: true },
  ],
} as BookingContext);

describe('booking answers in messages', () => {
  it('the confirmation and the approval request list each answer under its question, escaped in HTML, in the tenant\'s language', () => {
    for (const template of ['confirmation', 'approval_request'] as const) {
      const { catalog, fields } = messageFieldsOf({ publicUrl: 'https://book.example' }, ctx('en'), { withManageLink: template === 'confirmation' });
      const mail = renderEmail(catalog, template, fields);
      expect(mail.text, template).toContain('Reason <for> the visit: Toothache & more');
      expect(mail.text, template).toContain('Topics: Teeth, Gums');
      expect(mail.text, template).toContain('I accept the policy: Yes');
      expect(mail.html, template).toContain('Reason &lt;for&gt; the visit');
      expect(mail.html, template).toContain('Toothache &amp; more');
    }
    const { catalog, fields } = messageFieldsOf({ publicUrl: 'https://book.example' }, ctx('de'));
    expect(renderEmail(catalog, 'confirmation', fields).text).toContain('I accept the policy: Ja');
  });

  it('other messages (a reminder) do not repeat the answers', () => {
    const { catalog, fields } = messageFieldsOf({ publicUrl: 'https://book.example' }, ctx('en'));
    expect(renderEmail(catalog, 'reminder', fields).text).not.toContain('Toothache');
  });
});
