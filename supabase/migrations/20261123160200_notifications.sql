-- Customer and staff notifications: the delivery log (one row per message per recipient, keyed by
-- a semantic dedupe key so a retried job never sends twice), opt-outs, and the read-only helpers the
-- worker uses to build a message from one booking in one call. Callers only read the log (staff,
-- under RLS); the worker (the database owner) writes it through the slotbase_private functions below.

-- why: canonical form of an address per channel, shared by opt-outs and the worker's lookups:
-- emails lower-case; phone numbers without spaces, dashes, dots and parentheses, a leading 00 read
-- as +. What is not a valid E.164 number afterwards is refused by notification_opt_outs_address_check
-- (the worker's TypeScript normalizePhone applies the same rules).
create function slotbase_private.normalize_notification_address(p_channel text, p_address text)
returns text
language sql
immutable
set search_path = ''
as $$
  select case p_channel
    when 'email' then lower(btrim(p_address))
    when 'sms' then regexp_replace(regexp_replace(btrim(p_address), '[[:space:]().-]', '', 'g'), '^00', '+')
    else p_address
  end
$$;
comment on function slotbase_private.normalize_notification_address(text, text) is 'Canonical address for a channel: lower-case email; phone as + and digits (00 prefix read as +).';

-- why: every message Slotbase sends or decides not to send, per recipient and channel. The dedupe
-- key names what the message is about (confirmation:<booking>:email:<to>,
-- reminder:<booking>:<offset>:<start epoch>:sms:<to>, …) and is unique per tenant: a retried or
-- duplicated job finds the row and does not send again once it is `sent` (or `skipped`).
create table slotbase.notifications (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  booking_id uuid,
  channel text not null,
  template text not null,
  recipient text not null,
  dedupe_key text not null,
  status text not null default 'queued',
  reason text,
  attempts integer not null default 0,
  provider_message_id text,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  sent_at timestamptz,
  constraint notifications_pkey primary key (tenant_id, id),
  constraint notifications_dedupe_key_key unique (tenant_id, dedupe_key),
  constraint notifications_tenant_id_fkey foreign key (tenant_id) references slotbase.tenants (id),
  constraint notifications_booking_id_fkey foreign key (tenant_id, booking_id) references slotbase.bookings (tenant_id, id) on delete cascade,
  constraint notifications_channel_check check (channel in ('email', 'sms')),
  constraint notifications_template_check check (template in ('confirmation', 'reminder', 'rescheduled', 'cancelled', 'rejected', 'approval_request')),
  constraint notifications_recipient_check check (length(recipient) between 1 and 254),
  constraint notifications_dedupe_key_check check (length(dedupe_key) between 1 and 500),
  constraint notifications_status_check check (status in ('queued', 'sent', 'failed', 'skipped')),
  constraint notifications_reason_check check (reason is null or reason ~ '^[a-z][a-z0-9_]{0,63}$'),
  constraint notifications_attempts_check check (attempts >= 0),
  constraint notifications_last_error_check check (last_error is null or length(last_error) <= 2000),
  constraint notifications_sent_at_check check ((status = 'sent') = (sent_at is not null))
);
alter table slotbase.notifications enable row level security;
alter table slotbase.notifications force row level security;
create index notifications_tenant_id_created_at_idx on slotbase.notifications (tenant_id, created_at desc, id desc);
create index notifications_tenant_id_booking_id_idx on slotbase.notifications (tenant_id, booking_id) where booking_id is not null;
create trigger _100_timestamps before update on slotbase.notifications
  for each row execute function slotbase_private.tg__set_updated_at();
comment on table slotbase.notifications is 'Delivery log of emails and SMS; written only by the worker (slotbase_private functions), read by staff.';
comment on column slotbase.notifications.dedupe_key is 'What the message is about; unique per tenant, so a message is never sent twice.';
comment on column slotbase.notifications.reason is 'Why it was skipped (opted_out, invalid_phone) or how it failed (smtp_error, sms_error).';
comment on column slotbase.notifications.provider_message_id is 'SMTP Message-ID or the SMS provider''s message sid, once the server accepted the message.';

-- why: staff see what was sent about the bookings they can see: tenant-wide owners, admins,
-- receptionists and viewers everything; location-scoped members only messages about bookings at
-- their location; providers only messages about their own bookings. Nobody writes (no grants).
create policy select_staff on slotbase.notifications for select to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (
      (
        (select slotbase.current_member_role()) in ('owner', 'admin', 'receptionist', 'viewer')
        and (
          (select slotbase.current_member_location_id()) is null
          or exists (
            select 1 from slotbase.bookings as b
            where b.tenant_id = notifications.tenant_id and b.id = notifications.booking_id
              and b.location_id = (select slotbase.current_member_location_id())
          )
        )
      )
      or (
        (select slotbase.current_member_role()) = 'provider'
        and exists (
          select 1 from slotbase.bookings as b
          where b.tenant_id = notifications.tenant_id and b.id = notifications.booking_id
            and b.provider_id in (select slotbase.current_provider_ids())
        )
      )
    )
  );
comment on policy select_staff on slotbase.notifications is 'Staff read the delivery log: tenant-wide members all of it, location-scoped members their location''s bookings, providers their own bookings.';
grant select on slotbase.notifications to authenticated;

-- why: a customer who asked not to be contacted on a channel (or an address that bounced) is
-- skipped by the worker (status skipped, reason opted_out). Addresses are stored normalized.
create table slotbase.notification_opt_outs (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  channel text not null,
  address text not null,
  reason text,
  created_by uuid,
  created_at timestamptz not null default now(),
  constraint notification_opt_outs_pkey primary key (tenant_id, id),
  constraint notification_opt_outs_address_key unique (tenant_id, channel, address),
  constraint notification_opt_outs_tenant_id_fkey foreign key (tenant_id) references slotbase.tenants (id),
  constraint notification_opt_outs_created_by_fkey foreign key (created_by) references slotbase.users (id),
  constraint notification_opt_outs_channel_check check (channel in ('email', 'sms')),
  constraint notification_opt_outs_address_check check (
    case channel
      when 'email' then address ~ '^[^@[:space:]]+@[^@[:space:]]+$' and length(address) <= 254
      when 'sms' then address ~ '^\+[1-9][0-9]{6,14}$'
      else false
    end
  ),
  constraint notification_opt_outs_reason_check check (reason is null or length(btrim(reason)) between 1 and 1000)
);
alter table slotbase.notification_opt_outs enable row level security;
alter table slotbase.notification_opt_outs force row level security;

-- why: callers send addresses as people type them; the row keeps the canonical form and who added it.
create function slotbase_private.tg_notification_opt_outs__prepare()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  new.address := slotbase_private.normalize_notification_address(new.channel, new.address);
  new.created_by := slotbase.current_user_id();
  return new;
end
$$;
create trigger _050_prepare before insert on slotbase.notification_opt_outs
  for each row execute function slotbase_private.tg_notification_opt_outs__prepare();
comment on table slotbase.notification_opt_outs is 'Addresses that receive no notifications on a channel; the worker records such messages as skipped (opted_out).';
comment on column slotbase.notification_opt_outs.address is 'Normalized: lower-case email, or an E.164 phone number (+ and digits).';

-- why: the staff who meet customers (owners, admins, receptionists) record and lift opt-outs;
-- an opt-out is about a person, so it applies tenant-wide whatever the member's location.
create policy select_staff on slotbase.notification_opt_outs for select to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin', 'receptionist')
  );
comment on policy select_staff on slotbase.notification_opt_outs is 'Owners, admins and receptionists see the tenant''s opt-outs.';
create policy insert_staff on slotbase.notification_opt_outs for insert to authenticated
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin', 'receptionist')
  );
comment on policy insert_staff on slotbase.notification_opt_outs is 'Owners, admins and receptionists record that a customer wants no messages on a channel.';
create policy delete_staff on slotbase.notification_opt_outs for delete to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin', 'receptionist')
  );
comment on policy delete_staff on slotbase.notification_opt_outs is 'Owners, admins and receptionists lift an opt-out.';
grant select, delete on slotbase.notification_opt_outs to authenticated;
grant insert (tenant_id, id, channel, address, reason) on slotbase.notification_opt_outs to authenticated;

-- Worker helpers (the worker runs as the database owner; no caller may execute these) ----------

-- why: the one step before any send. Creates the log row for this dedupe key if it is new, locks
-- it (a concurrent duplicate job waits, then sees `sent`), and decides skips: an opted-out address,
-- or the reason the worker passes (invalid_phone). The caller sends only when the returned row is
-- `queued` or `failed`; a `sent` or `skipped` row is final.
create function slotbase_private.claim_notification(
  p_tenant_id uuid, p_booking_id uuid, p_channel text, p_template text, p_recipient text, p_dedupe_key text,
  p_skip_reason text default null
)
returns slotbase.notifications
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_row slotbase.notifications;
  v_reason text := p_skip_reason;
begin
  insert into slotbase.notifications (tenant_id, booking_id, channel, template, recipient, dedupe_key)
  values (p_tenant_id, p_booking_id, p_channel, p_template, left(p_recipient, 254), p_dedupe_key)
  on conflict (tenant_id, dedupe_key) do nothing;
  select * into v_row from slotbase.notifications
  where tenant_id = p_tenant_id and dedupe_key = p_dedupe_key
  for update;
  if v_row.status in ('queued', 'failed') then
    if v_reason is null and exists (
      select 1 from slotbase.notification_opt_outs as o
      where o.tenant_id = p_tenant_id and o.channel = p_channel
        and o.address = slotbase_private.normalize_notification_address(p_channel, p_recipient)
    ) then
      v_reason := 'opted_out';
    end if;
    if v_reason is not null then
      update slotbase.notifications set status = 'skipped', reason = v_reason
      where tenant_id = v_row.tenant_id and id = v_row.id
      returning * into v_row;
    end if;
  end if;
  return v_row;
end
$$;
comment on function slotbase_private.claim_notification(uuid, uuid, text, text, text, text, text) is
  'Worker: the locked log row for a dedupe key (created queued if new; skipped when opted out or p_skip_reason is given). Send only if queued or failed.';

-- why: the outcome of one attempt, in its own statement right after the server answered. A `sent`
-- row is never changed again, so a late failure report cannot un-send a message.
create function slotbase_private.record_notification_attempt(
  p_tenant_id uuid, p_id uuid, p_status text, p_provider_message_id text default null, p_error text default null, p_reason text default null
)
returns slotbase.notifications
language sql
volatile
security definer
set search_path = ''
as $$
  update slotbase.notifications
  set status = p_status,
      attempts = attempts + 1,
      provider_message_id = coalesce(p_provider_message_id, provider_message_id),
      last_error = coalesce(left(p_error, 2000), last_error),
      reason = case when p_status = 'sent' then null else p_reason end,
      sent_at = case when p_status = 'sent' then pg_catalog.now() end
  where tenant_id = p_tenant_id and id = p_id and status <> 'sent' and p_status in ('sent', 'failed', 'skipped')
  returning *
$$;
comment on function slotbase_private.record_notification_attempt(uuid, uuid, text, text, text, text) is
  'Worker: records one send attempt: sent (with the provider''s id), failed (with the error; retried), or skipped (the provider refused the address for good). A sent row is final.';

-- why: an SMS provider that reports a number as unsubscribed (the recipient texted STOP) is an
-- opt-out: recorded once, so later messages are skipped without asking the provider again.
create function slotbase_private.add_notification_opt_out(p_tenant_id uuid, p_channel text, p_address text, p_reason text)
returns void
language sql
volatile
security definer
set search_path = ''
as $$
  insert into slotbase.notification_opt_outs (tenant_id, channel, address, reason)
  values (p_tenant_id, p_channel, p_address, p_reason)
  on conflict (tenant_id, channel, address) do nothing
$$;
comment on function slotbase_private.add_notification_opt_out(uuid, text, text, text) is
  'Worker: records an opt-out the provider reported (e.g. SMS STOP); a no-op when it exists.';

-- why: everything a message about one booking needs, in one call, read fresh when the job runs
-- (so a task sees the booking as it is now, not as it was when the job was queued).
create function slotbase_private.notification_context(p_tenant_id uuid, p_booking_id uuid)
returns table (
  tenant_id uuid, booking_id uuid, code text, status text, status_reason text,
  starts_at timestamptz, ends_at timestamptz, created_at timestamptz, updated_at timestamptz,
  tenant_name text, locale text, settings jsonb,
  location_id uuid, location_name text, location_address text, time_zone text,
  service_name text, provider_id uuid, provider_name text, provider_email text,
  contact_name text, contact_email text, contact_phone text,
  manage_token text, sequence integer, was_requested boolean
)
language plpgsql
stable
security definer
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
  select b.tenant_id, b.id, b.code, b.status, b.status_reason,
         b.starts_at, b.ends_at, b.created_at, b.updated_at,
         t.name, t.locale, t.settings,
         l.id, l.name, l.address, l.time_zone,
         s.name, p.id, p.name, p.email,
         b.contact_name, b.contact_email, b.contact_phone,
         slotbase_private.manage_token(b.id),
         slotbase_private.booking_ical_sequence(b.tenant_id, b.id),
         exists (
           select 1 from slotbase.booking_events as e
           where e.tenant_id = b.tenant_id and e.booking_id = b.id and e.to_status in ('pending', 'confirmed')
         )
  from slotbase.bookings as b
  join slotbase.tenants as t on t.id = b.tenant_id
  join slotbase.locations as l on l.tenant_id = b.tenant_id and l.id = b.location_id
  join slotbase.services as s on s.tenant_id = b.tenant_id and s.id = b.service_id
  join slotbase.providers as p on p.tenant_id = b.tenant_id and p.id = b.provider_id
  where b.tenant_id = p_tenant_id and b.id = p_booking_id and b.deleted_at is null;
end
$$;
comment on function slotbase_private.notification_context(uuid, uuid) is
  'Worker: one booking with its tenant (name, locale, settings), location (zone), service, provider, contact, manage token, iCalendar SEQUENCE, and whether it was ever requested or confirmed (not just held); no row if gone.';

-- why: who approves a pending booking: the tenant's owners, its admins and receptionists who are
-- tenant-wide or scoped to the booking's location. API keys' service users are not people.
create function slotbase_private.approval_recipients(p_tenant_id uuid, p_booking_id uuid)
returns table (email text, name text)
language sql
stable
security definer
set search_path = ''
as $$
  select distinct on (lower(u.email)) u.email, coalesce(u.display_name, u.email)
  from slotbase.bookings as b
  join slotbase.memberships as m on m.tenant_id = b.tenant_id and m.deleted_at is null
  join slotbase.users as u on u.id = m.user_id
  where b.tenant_id = p_tenant_id and b.id = p_booking_id
    and (m.role = 'owner' or (m.role in ('admin', 'receptionist') and (m.location_id is null or m.location_id = b.location_id)))
    and not exists (select 1 from slotbase.api_keys as k where k.tenant_id = m.tenant_id and k.service_user_id = m.user_id)
  order by lower(u.email)
$$;
comment on function slotbase_private.approval_recipients(uuid, uuid) is
  'Worker: staff who should approve this pending booking (owners; admins and receptionists tenant-wide or at its location).';

revoke execute on all functions in schema slotbase, slotbase_private from public;
