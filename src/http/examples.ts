import { textToBase64Url } from '#src/lib/base64url.ts';

/**
 * The examples of the OpenAPI document, written once: one clinic in Berlin ("Sunrise Clinic",
 * location Mitte, Dr. Hanna Weiss, a 30-minute check-up and an evening yoga class) whose ids and
 * times agree across every schema. Route files attach them with `.openapi({ example })`;
 * test/http/openapi-examples.test.ts validates each against the schema it annotates.
 *
 * Times: March 2027, before the DST change, so Berlin is UTC+1 (09:00Z is 10:00 local).
 */

export const ids = {
  tenant: '3f2b8c1e-6a4d-4e0b-9c7a-1d5e8f2a4b60',
  owner: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5e',
  ownerMembership: '6c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f',
  receptionist: '2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e',
  receptionistMembership: '7d2e3f4a-5b6c-4d7e-9f8a-0b1c2d3e4f5a',
  providerUser: '4d5e6f7a-8b9c-4dae-bf0a-1b2c3d4e5f6a',
  customer: '8f9a0b1c-2d3e-4f4a-a5b6-c7d8e9f0a1b2',
  location: '0b5a3c8e-4b7f-4f6e-9d36-0c5f8f2b9a11',
  provider: 'c7d1e2f3-8a9b-4c0d-a1e2-f3a4b5c6d7e8',
  room: '9d8c7b6a-5f4e-4d3c-b2a1-0f9e8d7c6b5a',
  service: '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b',
  yoga: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
  session: 'b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6f',
  booking: 'e4f5a6b7-c8d9-4e0f-9a1b-2c3d4e5f6a7b',
  nextBooking: 'f5a6b7c8-d9e0-4f1a-8b2c-3d4e5f6a7b8c',
  bookingCreated: 'd3e4f5a6-b7c8-4d9e-8f0a-1b2c3d4e5f60',
  bookingCancelled: 'd3e4f5a6-b7c8-4d9e-8f0a-1b2c3d4e5f61',
  rule: '3a4b5c6d-7e8f-4a9b-8c0d-1e2f3a4b5c6d',
  override: '4b5c6d7e-8f9a-4b0c-9d1e-2f3a4b5c6d7e',
  timeOff: '5c6d7e8f-9a0b-4c1d-ae2f-3a4b5c6d7e8f',
  apiKey: '6d7e8f9a-0b1c-4d2e-bf3a-4b5c6d7e8f9a',
  apiKeyUser: '7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b',
  requestId: '5f0c6d2a-8e1b-4b7a-9c3d-2e4f6a8b0c1d',
} as const;

const email = {
  owner: 'owner@clinic.example',
  receptionist: 'reception@clinic.example',
  provider: 'dr.weiss@clinic.example',
  customer: 'ada@example.com',
} as const;

const created = '2027-02-01T08:15:00.000Z';
const booked = '2027-02-20T14:12:05.123Z';
const password = 'correct horse battery staple';
const accessToken =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxYTJiM2M0ZC01ZTZmLTRhN2ItOGM5ZC0wZTFmMmEzYjRjNWUiLCJ0ZW5hbnRfaWQiOiIzZjJiOGMxZS02YTRkLTRlMGItOWM3YS0xZDVlOGYyYTRiNjAiLCJleHAiOjE4MDM4MDAwMDB9.Hq3v0rX9mV1kQ8a2cT7LzN4yW6bP5dE0sJfUgK1iOo8';
const refreshToken = 'rt_9c4e1f7a2b8d4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d';
export const manageToken = 'q3Zr8N1vX0bT5kLmW2yH7cJd9fGsA4eP6uRiOtnEw_Y';
const code = 'BK-7F3K9QM';

/** The opaque `next_cursor` of a CRUD list page whose last row has this id. */
const crudCursor = (id: string) => textToBase64Url(id);
/** The opaque `next_cursor` of a bookings page (its last row's start and id). */
const bookingCursor = (at: string, id: string) => textToBase64Url(JSON.stringify([at, id]));

/** Example values of the `cursor` query parameters: what the lists' `next_cursor` looks like. */
export const cursors = {
  crud: crudCursor(ids.location),
  bookings: bookingCursor('2027-03-01T09:00:00+00:00', ids.booking),
  customers: textToBase64Url(JSON.stringify(['ada lovelace', 'ada@example.com'])),
};

// ——— auth ———

const tenantSummary = { id: ids.tenant, slug: 'sunrise-clinic', name: 'Sunrise Clinic', role: 'owner' };

export const examples = {
  signupRequest: {
    email: email.owner,
    password,
    name: 'Olga Becker',
    tenant: { slug: 'sunrise-clinic', name: 'Sunrise Clinic', time_zone: 'Europe/Berlin' },
  },
  loginRequest: { email: email.owner, password, tenant: 'sunrise-clinic' },
  refreshRequest: { refresh_token: refreshToken },
  tenantSummary,
  staffSession: {
    token_type: 'Bearer' as const,
    kind: 'staff' as const,
    access_token: accessToken,
    expires_in: 900,
    refresh_token: refreshToken,
    user: { id: ids.owner, email: email.owner },
    tenant: tenantSummary,
    tenants: [tenantSummary],
  },
  customerSession: {
    token_type: 'Bearer' as const,
    kind: 'customer' as const,
    access_token: accessToken,
    expires_in: 900,
    refresh_token: refreshToken,
    user: { id: ids.customer, email: email.customer },
    tenant: null,
    tenants: [],
  },
  customerSignupRequest: { email: email.customer, password, name: 'Ada Lovelace', phone: '+49 30 1234567' },
  customerLoginRequest: { email: email.customer, password },
};

// ——— tenant and catalog ———

const settings = { reminder_offsets_minutes: [1440, 120] };

export const tenantExamples = {
  tenant: {
    id: ids.tenant,
    slug: 'sunrise-clinic',
    name: 'Sunrise Clinic',
    time_zone: 'Europe/Berlin',
    locale: 'de-DE',
    plan: 'free',
    status: 'active' as const,
    settings,
    created_at: created,
    updated_at: created,
  },
  tenantPatch: { name: 'Sunrise Clinic Berlin', locale: 'de-DE', settings },
};

const location = {
  id: ids.location,
  name: 'Mitte',
  time_zone: 'Europe/Berlin',
  address: 'Rosenthaler Str. 40, 10178 Berlin',
  phone: '+49 30 1234567',
  created_at: created,
  updated_at: created,
  deleted_at: null,
};

const provider = {
  id: ids.provider,
  name: 'Dr. Hanna Weiss',
  email: email.provider,
  phone: '+49 30 1234568',
  user_id: ids.providerUser,
  location_id: ids.location,
  max_bookings_per_day: 12,
  max_bookings_per_week: null,
  created_at: created,
  updated_at: created,
  deleted_at: null,
};

const resource = {
  id: ids.room,
  location_id: ids.location,
  name: 'Room 1',
  kind: 'room' as const,
  created_at: created,
  updated_at: created,
  deleted_at: null,
};

const service = {
  id: ids.service,
  slug: 'checkup',
  name: 'Check-up',
  description: 'A 30-minute general check-up with one of our doctors.',
  kind: 'appointment' as const,
  duration_minutes: 30,
  buffer_before_minutes: 0,
  buffer_after_minutes: 5,
  slot_interval_minutes: null,
  min_notice_minutes: 120,
  max_advance_days: 90,
  max_party_size: 1,
  default_capacity: null,
  hold_minutes: 15,
  requires_approval: false,
  price_cents: 4500,
  currency: 'EUR',
  cancellation_notice_minutes: 1440,
  late_cancellation_refund_percent: 50,
  deposit_percent: null,
  is_public: true,
  provider_ids: [ids.provider],
  resource_ids: [ids.room],
  assignment_strategy: 'least_booked' as const,
  assignment_period: 'day' as const,
  max_bookings_per_day: null,
  max_bookings_per_customer: 2,
  customer_limit_period: 'month' as const,
  customer_min_gap_minutes: null,
  anti_scalping: 'standard' as const,
  anti_scalping_max_per_contact: 2,
  anti_scalping_max_per_device: 2,
  provider_pool: [{ provider_id: ids.provider, weight: 1, priority: 0 }],
  created_at: created,
  updated_at: created,
  deleted_at: null,
};

const rule = {
  id: ids.rule,
  provider_id: ids.provider,
  resource_id: null,
  location_id: ids.location,
  weekday: 1,
  start_time: '09:00',
  end_time: '17:00',
  valid_from: null,
  valid_until: null,
  created_at: created,
  updated_at: created,
};

const override = {
  id: ids.override,
  provider_id: ids.provider,
  resource_id: null,
  location_id: ids.location,
  date: '2027-03-08',
  start_time: '10:00',
  end_time: '14:00',
  created_at: created,
  updated_at: created,
};

const timeOff = {
  id: ids.timeOff,
  provider_id: ids.provider,
  resource_id: null,
  starts_at: '2027-03-14T23:00:00Z',
  ends_at: '2027-03-19T23:00:00Z',
  reason: 'Medical conference',
  created_at: created,
  updated_at: created,
};

/** `{ data: [item], next_cursor }` of a CRUD list with more rows after this one. */
const crudPage = <T extends { id: string }>(item: T) => ({ data: [item], next_cursor: crudCursor(item.id) });

export const catalogExamples = {
  location,
  locationPage: crudPage(location),
  locationCreate: { name: 'Mitte', time_zone: 'Europe/Berlin', address: 'Rosenthaler Str. 40, 10178 Berlin', phone: '+49 30 1234567' },
  locationPatch: { phone: '+49 30 7654321' },
  provider,
  providerPage: crudPage(provider),
  providerCreate: { name: 'Dr. Hanna Weiss', email: email.provider, phone: '+49 30 1234568', location_id: ids.location },
  providerPatch: { phone: '+49 30 7654321' },
  resource,
  resourcePage: crudPage(resource),
  resourceCreate: { location_id: ids.location, name: 'Room 1', kind: 'room' as const },
  resourcePatch: { name: 'Room 1a' },
  service,
  servicePage: crudPage(service),
  serviceCreate: {
    slug: 'checkup',
    name: 'Check-up',
    description: 'A 30-minute general check-up with one of our doctors.',
    duration_minutes: 30,
    buffer_after_minutes: 5,
    min_notice_minutes: 120,
    price_cents: 4500,
    currency: 'EUR',
    cancellation_notice_minutes: 1440,
    late_cancellation_refund_percent: 50,
  },
  servicePatch: { price_cents: 5000, requires_approval: true },
  rule,
  rulePage: crudPage(rule),
  ruleCreate: { location_id: ids.location, weekday: 1, start_time: '09:00', end_time: '17:00' },
  rulePatch: { end_time: '13:00' },
  override,
  overridePage: crudPage(override),
  overrideCreate: { provider_id: ids.provider, location_id: ids.location, date: '2027-03-08', start_time: '10:00', end_time: '14:00' },
  timeOff,
  timeOffPage: crudPage(timeOff),
  timeOffCreate: { provider_id: ids.provider, starts_at: '2027-03-14T23:00:00Z', ends_at: '2027-03-19T23:00:00Z', reason: 'Medical conference' },
};

// ——— members and API keys ———

const member = {
  id: ids.receptionistMembership,
  user_id: ids.receptionist,
  email: email.receptionist,
  display_name: 'Jonas Schmidt',
  role: 'receptionist' as const,
  location_id: ids.location,
  created_at: created,
  updated_at: created,
  deleted_at: null,
};

const apiKey = {
  id: ids.apiKey,
  name: 'Website integration',
  key_prefix: 'sb_live_Xk4q',
  scopes: ['bookings:read' as const, 'bookings:write' as const],
  role: 'receptionist' as const,
  effective_role: 'receptionist' as const,
  service_user_id: ids.apiKeyUser,
  created_by: ids.owner,
  created_at: created,
  last_used_at: '2027-02-28T17:42:00.000Z',
  expires_at: '2028-01-01T00:00:00Z',
  revoked_at: null,
};

export const memberExamples = {
  member,
  memberPage: crudPage(member),
  memberCreate: { email: email.receptionist, role: 'receptionist' as const, location_id: ids.location },
  memberPatch: { role: 'admin' as const, location_id: null },
  apiKey,
  apiKeyPage: crudPage(apiKey),
  apiKeyCreated: { ...apiKey, last_used_at: null, key: 'sb_live_Xk4q7Rm2Tn9Vb3Wc5Yd8Ze1Af6Bg0Ch4Dj' },
  apiKeyCreate: { name: 'Website integration', scopes: ['bookings:read' as const, 'bookings:write' as const], role: 'receptionist' as const, expires_at: '2028-01-01T00:00:00Z' },
};

// ——— public booking ———

const slot = {
  starts_at: '2027-03-01T09:00:00Z',
  ends_at: '2027-03-01T09:30:00Z',
  provider_id: ids.provider,
  location_id: ids.location,
  session_id: null,
  seats_left: null,
  local_starts_at: '2027-03-01T10:00:00',
};

// ——— booking questions (per service) ———

const questionIds = { reason: '8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', insurance: '9b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e', consent: 'ac3d4e5f-6a7b-4c8d-ae9f-1a2b3c4d5e6f' };
const questions = [
  { id: questionIds.reason, service_id: ids.service, position: 0, kind: 'text' as const, label: 'Reason for the visit', help_text: 'A few words are enough', is_required: true, max_length: 300, options: null, created_at: created, updated_at: created },
  { id: questionIds.insurance, service_id: ids.service, position: 1, kind: 'single_choice' as const, label: 'Insurance', help_text: null, is_required: true, max_length: null, options: ['Public', 'Private', 'None'], created_at: created, updated_at: created },
  { id: questionIds.consent, service_id: ids.service, position: 2, kind: 'checkbox' as const, label: 'I accept the cancellation policy', help_text: null, is_required: true, max_length: null, options: null, created_at: created, updated_at: created },
];
const publicQuestion = ({ created_at: _c, updated_at: _u, service_id: _s, ...q }: (typeof questions)[number]) => q;
const answers = [
  { question_id: questionIds.reason, label: 'Reason for the visit', kind: 'text' as const, value: 'Toothache on the left side' },
  { question_id: questionIds.insurance, label: 'Insurance', kind: 'single_choice' as const, value: 'Private' },
  { question_id: questionIds.consent, label: 'I accept the cancellation policy', kind: 'checkbox' as const, value: true },
];
const answersRequest = { [questionIds.reason]: 'Toothache on the left side', [questionIds.insurance]: 'Private', [questionIds.consent]: true };

export const questionExamples = {
  question: questions[0]!,
  publicQuestion: publicQuestion(questions[0]!),
  questions: { data: questions },
  createRequest: { kind: 'single_choice' as const, label: 'Insurance', options: ['Public', 'Private', 'None'], is_required: true },
  patchRequest: { label: 'Reason for your visit', max_length: 500 },
  answers,
  answersRequest,
};

const publicService = {
  questions: questions.map(publicQuestion),
  id: service.id,
  slug: service.slug,
  name: service.name,
  description: service.description,
  kind: service.kind,
  duration_minutes: service.duration_minutes,
  max_party_size: service.max_party_size,
  requires_approval: service.requires_approval,
  price_cents: service.price_cents,
  currency: service.currency,
};

const publicLocation = { id: location.id, name: location.name, time_zone: location.time_zone, address: location.address };

const manageUrl = `/v1/public/bookings/${code}?token=${encodeURIComponent(manageToken)}`;

export const publicExamples = {
  service: publicService,
  services: { data: [publicService] },
  location: publicLocation,
  locations: { data: [publicLocation] },
  provider: { id: ids.provider, name: 'Dr. Weiss', location_id: ids.location, service_ids: [ids.service] },
  providers: { data: [{ id: ids.provider, name: 'Dr. Weiss', location_id: ids.location, service_ids: [ids.service] }] },
  slot,
  slots: {
    time_zone: 'Europe/Berlin',
    data: [slot, { ...slot, starts_at: '2027-03-01T09:30:00Z', ends_at: '2027-03-01T10:00:00Z', local_starts_at: '2027-03-01T10:30:00' }],
  },
  bookingRequest: {
    service_id: ids.service,
    starts_at: '2027-03-01T09:00:00Z',
    provider_id: ids.provider,
    contact: { name: 'Ada Lovelace', email: email.customer, phone: '+49 30 1234567' },
    notes: 'First visit',
    answers: answersRequest,
  },
  receipt: {
    id: ids.booking,
    code,
    manage_token: manageToken,
    status: 'confirmed' as const,
    starts_at: '2027-03-01T09:00:00Z',
    ends_at: '2027-03-01T09:30:00Z',
    provider_id: ids.provider,
    location_id: ids.location,
    session_id: null,
    party_size: 1,
    hold_expires_at: null,
    manage_url: manageUrl,
  },
  booking: {
    code,
    status: 'confirmed' as const,
    service_id: ids.service,
    provider_id: ids.provider,
    location_id: ids.location,
    session_id: null,
    starts_at: '2027-03-01T09:00:00Z',
    ends_at: '2027-03-01T09:30:00Z',
    party_size: 1,
    contact_name: 'Ada Lovelace',
    hold_expires_at: null,
  },
  rescheduleRequest: { starts_at: '2027-03-01T10:00:00Z' },
  cancelRequest: { reason: 'I cannot make it that day' },
  deviceKey: { kty: 'EC' as const, crv: 'P-256' as const, x: '2z-fijLV6xjOUVjG_4f58-E52x5i_-wbP2x8Uou4tus', y: 'Izyb-cIjRnRYIk9Ivjd9C3pBNvICOa4kreflkWMvZXs' },
  deviceToken: {
    device_token: 'sbdt_Vb7kQ2xN9pL4mR8tW1yZ6cF3hJ5sD0gA2eU7iO4nK9q',
    key_thumbprint: 'WcE1Vu67w8yHwU197pUE_UKiro9Sf_HdG3urPLxf_aU',
    expires_at: '2027-03-22T14:12:05.123Z',
  },
};

// ——— staff bookings and sessions ———

const booking = {
  id: ids.booking,
  code,
  status: 'confirmed' as const,
  source: 'public' as const,
  service_id: ids.service,
  provider_id: ids.provider,
  location_id: ids.location,
  session_id: null,
  customer_user_id: ids.customer,
  contact_name: 'Ada Lovelace',
  contact_email: email.customer,
  contact_phone: '+49 30 1234567',
  party_size: 1,
  starts_at: '2027-03-01T09:00:00Z',
  ends_at: '2027-03-01T09:30:00Z',
  notes: 'First visit',
  answers,
  hold_expires_at: null,
  status_reason: null,
  created_by: null,
  created_at: booked,
  updated_at: booked,
};

const staffBooking = {
  ...booking,
  id: ids.nextBooking,
  code: 'BK-Q4N8XR2',
  source: 'staff' as const,
  customer_user_id: null,
  contact_name: 'Max Mustermann',
  contact_email: null,
  contact_phone: '+49 170 1234567',
  starts_at: '2027-03-01T10:00:00Z',
  ends_at: '2027-03-01T10:30:00Z',
  notes: 'Booked by phone',
  created_by: ids.receptionist,
};

const groupSession = {
  id: ids.session,
  service_id: ids.yoga,
  provider_id: ids.provider,
  location_id: ids.location,
  starts_at: '2027-03-02T17:00:00Z',
  ends_at: '2027-03-02T18:00:00Z',
  capacity: 12,
  seats_taken: 3,
  status: 'scheduled' as const,
  is_forced: false,
  created_at: created,
  updated_at: created,
};

const myBooking = {
  id: booking.id,
  tenant_id: ids.tenant,
  code: booking.code,
  status: booking.status,
  service_id: booking.service_id,
  provider_id: booking.provider_id,
  location_id: booking.location_id,
  session_id: booking.session_id,
  contact_name: booking.contact_name,
  contact_email: booking.contact_email,
  contact_phone: booking.contact_phone,
  party_size: booking.party_size,
  starts_at: booking.starts_at,
  ends_at: booking.ends_at,
  notes: booking.notes,
  hold_expires_at: booking.hold_expires_at,
  status_reason: booking.status_reason,
  created_at: booking.created_at,
};

export const bookingExamples = {
  booking,
  bookingList: { data: [booking], next_cursor: bookingCursor('2027-03-01T09:00:00+00:00', booking.id) },
  events: {
    data: [
      {
        id: ids.bookingCreated,
        booking_id: ids.booking,
        at: booked,
        actor_user_id: ids.customer,
        actor_role: 'authenticated',
        from_status: null,
        to_status: 'confirmed' as const,
        changes: { starts_at: '2027-03-01T09:00:00Z', provider_id: ids.provider },
      },
      {
        id: ids.bookingCancelled,
        booking_id: ids.booking,
        at: '2027-02-27T08:03:44.512Z',
        actor_user_id: ids.receptionist,
        actor_role: 'receptionist',
        from_status: 'confirmed' as const,
        to_status: 'cancelled' as const,
        changes: { reason: 'Customer called to cancel' },
      },
    ],
  },
  staffRequest: {
    service_id: ids.service,
    provider_id: ids.provider,
    starts_at: '2027-03-01T10:00:00Z',
    contact: { name: 'Max Mustermann', phone: '+49 170 1234567' },
    notes: 'Booked by phone',
  },
  staffReceipt: {
    ...staffBooking,
    manage_token: 'Lw7pC2xV9nB4mK1jH6gF3dS8aQ5zR0tYuEiOoP-e_Xc',
    manage_url: `/v1/public/bookings/BK-Q4N8XR2?token=${encodeURIComponent('Lw7pC2xV9nB4mK1jH6gF3dS8aQ5zR0tYuEiOoP-e_Xc')}`,
  },
  reasonRequest: { reason: 'Customer called to cancel' },
  rescheduleRequest: { starts_at: '2027-03-01T11:00:00Z', provider_id: ids.provider },
  session: groupSession,
  sessionList: { data: [groupSession], next_cursor: null },
  generated: {
    data: [groupSession, { ...groupSession, id: 'c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f', starts_at: '2027-03-03T17:00:00Z', ends_at: '2027-03-03T18:00:00Z', seats_taken: 0 }],
  },
  sessionRequest: { service_id: ids.yoga, provider_id: ids.provider, location_id: ids.location, starts_at: '2027-03-02T17:00:00Z', capacity: 12 },
  generateRequest: { service_id: ids.yoga, from: '2027-03-01T00:00:00Z', to: '2027-03-08T00:00:00Z' },
  sessionPatch: { capacity: 16 },
  myBooking,
  myBookingList: { data: [myBooking], next_cursor: null },
};

// ——— customers, me, analytics, system ———

const customerSummary = {
  key: email.customer,
  name: 'Ada Lovelace',
  email: email.customer,
  phone: '+49 30 1234567',
  customer_user_id: ids.customer,
  bookings_count: 4,
  last_booking_at: '2027-01-18T08:00:00Z',
  next_booking_at: '2027-03-01T09:00:00Z',
};

const statusCounts = { held: 0, pending: 1, confirmed: 14, completed: 21, no_show: 2, cancelled: 3, rejected: 0, expired: 1 };

export const otherExamples = {
  customerSummary,
  customerList: { data: [customerSummary], next_cursor: cursors.customers },
  profile: {
    id: ids.customer,
    email: email.customer,
    display_name: 'Ada Lovelace',
    phone: '+49 30 1234567',
    created_at: '2027-01-10T19:20:00.000Z',
    updated_at: '2027-01-10T19:20:00.000Z',
  },
  profilePatch: { display_name: 'Ada King', phone: '+49 30 7654321' },
  statusCounts,
  analytics: {
    from: '2027-02-01',
    to: '2027-03-01',
    bookings: { total: 42, by_status: statusCounts },
    no_show_rate: 0.087,
    cancellation_rate: 0.073,
    by_day: [
      { date: '2027-02-01', total: 2, by_status: { ...statusCounts, pending: 0, confirmed: 0, completed: 2, no_show: 0, cancelled: 0, expired: 0 } },
    ],
    utilization: {
      providers: [{ provider_id: ids.provider, working_minutes: 9600, booked_minutes: 4050, utilization: 0.422 }],
      locations: [{ location_id: ids.location, working_minutes: 9600, booked_minutes: 4050, utilization: 0.422 }],
    },
  },
  health: { status: 'ok' as const },
};

// ——— problems ———

const problem = (status: number, code: string, title: string, extra: { detail?: string; errors?: { field: string; message: string; code?: string }[] } = {}) => ({
  type: `https://slotbase.dev/problems/${code}`,
  title,
  status,
  code,
  ...extra,
  request_id: ids.requestId,
});

/** The Problem schema's own example. */
export const problemExample = problem(409, 'slot_taken', 'That time is no longer available', {
  detail: 'Dr. Hanna Weiss is already booked at 2027-03-01 10:00 (Europe/Berlin)',
});

/** Representative problems per status, shown under each operation's error responses. */
export const problemExamples: Record<number, Record<string, { summary: string; value: ReturnType<typeof problem> }>> = {
  400: { bad_request: { summary: 'The body is not JSON', value: problem(400, 'bad_request', 'Malformed JSON in request body') } },
  401: {
    unauthenticated: { summary: 'No credentials', value: problem(401, 'unauthenticated', 'Sign in first') },
    invalid_token: { summary: 'Expired access token', value: problem(401, 'invalid_token', 'The access token is invalid or expired') },
  },
  403: {
    forbidden: { summary: 'Your role may not do this', value: problem(403, 'forbidden', 'Not allowed') },
    insufficient_scope: { summary: 'An API key without the scope', value: problem(403, 'insufficient_scope', 'This API key lacks the catalog:write scope') },
    customer_session: { summary: 'A customer account\'s session on the staff API', value: problem(403, 'forbidden', 'Customer accounts cannot use the staff API') },
  },
  402: {
    plan_limit_reached: {
      summary: 'The tenant\'s plan allows no more',
      value: problem(402, 'plan_limit_reached', 'Your plan does not allow more of these', { detail: 'the free plan allows at most 1 providers' }),
    },
  },
  404: { not_found: { summary: 'Unknown, or another tenant\'s', value: problem(404, 'not_found', 'Booking not found') } },
  409: {
    slot_taken: { summary: 'Someone else booked that time', value: problemExample },
    booking_not_started: {
      summary: 'Completed or no-show before the start',
      value: problem(409, 'booking_not_started', 'The booking has not started yet', { detail: 'booking BK-7F3K9QM starts at 2027-03-01 09:00:00+00: its outcome can be recorded once it has started' }),
    },
    invalid_transition: {
      summary: 'Not possible in the current status',
      value: problem(409, 'invalid_transition', 'The booking cannot change to that status', { detail: 'booking BK-7F3K9QM is cancelled' }),
    },
  },
  410: {
    invitation_expired: { summary: 'The invitation link is past its expiry', value: problem(410, 'invitation_expired', 'This invitation has expired') },
    invitation_revoked: { summary: 'The invitation was taken back', value: problem(410, 'invitation_revoked', 'This invitation was revoked') },
    invitation_accepted: { summary: 'The link was already used', value: problem(410, 'invitation_accepted', 'This invitation was already accepted') },
  },
  413: { payload_too_large: { summary: 'Body over 64 KiB', value: problem(413, 'payload_too_large', 'The request body is too large') } },
  415: { unsupported_media_type: { summary: 'Not application/json', value: problem(415, 'unsupported_media_type', 'Unsupported Media Type') } },
  422: {
    validation_failed: {
      summary: 'Invalid fields',
      value: problem(422, 'validation_failed', 'The request is not valid', {
        errors: [
          { field: 'starts_at', message: 'Invalid ISO datetime', code: 'invalid_format' },
          { field: 'contact.email', message: 'Invalid email address', code: 'invalid_format' },
        ],
      }),
    },
    outside_availability: {
      summary: 'Not a bookable time',
      value: problem(422, 'outside_availability', 'That time is outside the available hours', { detail: 'no provider works at 2027-03-01 07:00 (Europe/Berlin)' }),
    },
  },
  429: { rate_limited: { summary: 'Slow down', value: problem(429, 'rate_limited', 'Too many requests; retry after the time in Retry-After') } },
  500: { internal_error: { summary: 'A bug on our side', value: problem(500, 'internal_error', 'Something went wrong on our side') } },
  501: { billing_not_configured: { summary: 'Stripe is not configured here', value: problem(501, 'billing_not_configured', 'Billing is not configured on this server') } },
  502: { stripe_unavailable: { summary: 'Stripe did not answer', value: problem(502, 'stripe_unavailable', 'Stripe could not be reached; try again shortly') } },
  503: { database_unavailable: { summary: 'Try again shortly', value: problem(503, 'database_unavailable', 'The database is unavailable; try again shortly') } },
};
