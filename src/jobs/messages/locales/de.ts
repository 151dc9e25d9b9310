import { defineLocale } from '../types.ts';

export default defineLocale({
  intl: 'de',
  labels: {
    when: 'Wann',
    previousWhen: 'Bisher',
    service: 'Leistung',
    provider: 'Bei',
    where: 'Wo',
    code: 'Buchungscode',
    booker: 'Gebucht von',
    reason: 'Grund',
    yes: 'Ja',
    no: 'Nein',
    refund: 'Erstattung',
    refundText: (amount, paid, kind) =>
      kind === 'none'
        ? `keine: nach den Stornobedingungen werden die gezahlten ${paid} nicht erstattet`
        : kind === 'full'
          ? `${amount}, zurück auf die Karte, mit der Sie gezahlt haben (das kann einige Tage dauern)`
          : `${amount} der gezahlten ${paid}, nach den Stornobedingungen, zurück auf Ihre Karte`,
    manage: 'Buchung ansehen, verschieben oder stornieren',
    acceptOffer: 'Termin annehmen oder ablehnen',
    offerExpires: 'Für Sie reserviert bis',
    footer: (tenant) => `Gesendet von ${tenant} über Slotbase.`,
  },
  email: {
    confirmation: (m) => ({
      subject: `Bestätigt: ${m.serviceName} am ${m.whenShort}`,
      greeting: `Hallo ${m.contactName},`,
      lead: [`Ihre Buchung bei ${m.tenantName} ist bestätigt. Die Kalendereinladung ist angehängt.`],
    }),
    reminder: (m) => ({
      subject: `Erinnerung: ${m.serviceName} am ${m.whenShort}`,
      greeting: `Hallo ${m.contactName},`,
      lead: [`wir erinnern Sie an Ihren bevorstehenden Termin bei ${m.tenantName}.`],
    }),
    rescheduled: (m) => ({
      subject: `Verschoben: ${m.serviceName} jetzt am ${m.whenShort}`,
      greeting: `Hallo ${m.contactName},`,
      lead: [`Ihr Termin bei ${m.tenantName} wurde verschoben. Die aktualisierte Kalendereinladung ist angehängt.`],
    }),
    cancelled: (m) => ({
      subject: `Storniert: ${m.serviceName} am ${m.whenShort}`,
      greeting: `Hallo ${m.contactName},`,
      lead: [`Ihre Buchung bei ${m.tenantName} wurde storniert.`],
      after: [`Gern können Sie einen anderen Termin buchen.`],
    }),
    rejected: (m) => ({
      subject: `Nicht angenommen: ${m.serviceName} am ${m.whenShort}`,
      greeting: `Hallo ${m.contactName},`,
      lead: [`leider konnte ${m.tenantName} Ihre Buchungsanfrage nicht annehmen.`],
      after: [`Gern können Sie einen anderen Termin anfragen.`],
    }),
    approval_request: (m) => ({
      subject: `Freigabe nötig: ${m.serviceName} für ${m.contactName} am ${m.whenShort}`,
      greeting: `Hallo,`,
      lead: [`${m.contactName} hat einen Termin angefragt, der Ihre Freigabe braucht.`],
      after: [`Bestätigen oder ablehnen in Slotbase (Buchung ${m.bookingId}: POST /v1/bookings/${m.bookingId}/confirm oder /reject).`],
    }),
    waitlist_offer: (m) => ({
      subject: `Ein Termin ist frei: ${m.serviceName} am ${m.whenShort}`,
      greeting: `Hallo ${m.contactName},`,
      lead: [`ein Termin bei ${m.tenantName}, auf den Sie gewartet haben, ist frei geworden, und wir halten ihn für Sie fest.`],
      after: [`Nehmen Sie ihn an, bevor die Reservierung endet, sonst geht er an die nächste Person auf der Warteliste. Passt er nicht, lehnen Sie ihn ab: Ihr Platz auf der Warteliste bleibt für andere Termine erhalten.`],
    }),
  },
  sms: {
    confirmation: (m) => `${m.tenantName}: Ihr Termin ${m.serviceName} am ${m.whenShort} ist bestätigt (${m.code}).${m.manageUrl ? ` Verwalten: ${m.manageUrl}` : ''}`,
    reminder: (m) => `${m.tenantName}: Erinnerung an ${m.serviceName} am ${m.whenShort} (${m.code}).${m.manageUrl ? ` Verwalten: ${m.manageUrl}` : ''}`,
  },
});
