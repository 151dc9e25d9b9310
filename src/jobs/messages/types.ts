/** What a notification is about: one template per kind of message (notifications.template). */
export type Template = 'confirmation' | 'reminder' | 'rescheduled' | 'cancelled' | 'rejected' | 'approval_request' | 'waitlist_offer';

/**
 * Everything a template may show, already formatted for the reader: times in the location's
 * zone and the tenant's language, with the zone named.
 */
export interface MessageFields {
  tenantName: string;
  serviceName: string;
  providerName: string;
  locationName: string;
  locationAddress: string | null;
  /** The booker's name. */
  contactName: string;
  contactEmail: string | null;
  contactPhone: string | null;
  code: string;
  /** Start–end on its date, in the location's zone, the zone named: "Monday, March 1, 2027, 6:00 – 6:30 PM (Asia/Tokyo)". */
  when: string;
  /** The same, shorter (SMS): "Mar 1, 2027, 6:00 PM (Asia/Tokyo)". */
  whenShort: string;
  /** rescheduled: the previous start, formatted like `when` (start only). */
  previousWhen?: string;
  /** rejected / cancelled: the reason staff gave, if any. */
  reason?: string | null;
  /** rejected / cancelled after a payment: what is refunded of what was paid (smallest currency unit, as Stripe counts). */
  refund?: { amountCents: number; paidCents: number; currency: string };
  /** Customer messages: the page where the booker views, reschedules or cancels. */
  manageUrl?: string;
  /** waitlist_offer: where the customer accepts or declines the offered time, and until when. */
  offerUrl?: string;
  offerExpires?: string;
  /** approval_request: where staff act on the booking (the API). */
  bookingId: string;
  /** confirmation / approval_request: the booker's answers to the service's questions, formatted ("Yes", "Teeth, Braces"). */
  answers?: { label: string; value: string }[];
}

/** One email's words: the HTML and plain-text bodies are both built from this. */
export interface EmailCopy {
  subject: string;
  /** First line ("Hello Ada,"). */
  greeting: string;
  /** Paragraphs before the details. */
  lead: string[];
  /** Paragraphs after the details (optional). */
  after?: string[];
}

/**
 * A language: the words of every template. A file in ./locales/ named by its tag (`en.ts`,
 * `de.ts`, `pt-BR.ts`) that default-exports one of these is picked up by name: adding a language
 * is adding that file (the type checker lists anything it lacks).
 */
export interface LocaleCatalog {
  /** BCP 47 tag for Intl date formatting (`en`, `de`, `pt-BR`). */
  intl: string;
  labels: {
    when: string;
    previousWhen: string;
    service: string;
    provider: string;
    where: string;
    code: string;
    booker: string;
    reason: string;
    /** A ticked / unticked checkbox answer. */
    yes: string;
    no: string;
    /** The refund row of cancelled/rejected mails: its label, and its text from formatted amounts. */
    refund: string;
    refundText(amount: string, paid: string, kind: 'full' | 'partial' | 'none'): string;
    manage: string;
    /** waitlist_offer: the link's label and the row naming the offer's end. */
    acceptOffer: string;
    offerExpires: string;
    /** Footer line: "Sent by {tenant} via Slotbase". */
    footer(tenantName: string): string;
  };
  email: Record<Template, (m: MessageFields) => EmailCopy>;
  sms: Record<'confirmation' | 'reminder', (m: MessageFields) => string>;
}

export function defineLocale(catalog: LocaleCatalog): LocaleCatalog {
  return catalog;
}
