-- Booking questions (issue "Scheduling rules beyond the basics"): per-service custom fields a
-- booker answers (free text with a maximum length, one choice, several choices, a checkbox),
-- required or not, in the service's order. The answers are validated here and stored with the
-- booking (bookings.answers) as a snapshot of what was asked, so renaming or deleting a question
-- later never changes what a past booking says.
--
-- How answers reach a booking: here through a transaction-local setting read by the
-- before-insert trigger _070_answers; 20261124170000_explicit_booking_answers.sql replaces that
-- with create_booking's own p_answers parameter (stored in bookings.answers and validated by the
-- same trigger). Required answers are required for bookings made by bookers (source 'public');
-- staff booking on someone's behalf may leave them out. A direct SQL client cannot store an
-- invalid answer, nor book a public booking without a required one: the insert fails (SBANS).

-- why: the questions a service asks its bookers, in order.
create table slotbase.service_questions (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  service_id uuid not null,
  position integer not null default 0,
  kind text not null,
  label text not null,
  help_text text,
  is_required boolean not null default false,
  max_length integer,
  options text[],
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint service_questions_pkey primary key (tenant_id, id),
  constraint service_questions_service_id_fkey foreign key (tenant_id, service_id) references slotbase.services (tenant_id, id) on delete cascade,
  constraint service_questions_kind_check check (kind in ('text', 'single_choice', 'multiple_choice', 'checkbox')),
  constraint service_questions_label_check check (length(btrim(label)) between 1 and 200),
  constraint service_questions_help_text_check check (help_text is null or length(help_text) <= 1000),
  constraint service_questions_position_check check (position between 0 and 10000),
  constraint service_questions_max_length_check check (
    case when kind = 'text' then max_length is not null and max_length between 1 and 5000 else max_length is null end
  ),
  constraint service_questions_options_check check (
    case when kind in ('single_choice', 'multiple_choice')
      then options is not null and cardinality(options) between 1 and 50 and array_position(options, null) is null
      else options is null
    end
  )
);
alter table slotbase.service_questions enable row level security;
alter table slotbase.service_questions force row level security;
create index service_questions_tenant_id_service_id_position_idx on slotbase.service_questions (tenant_id, service_id, position);
comment on table slotbase.service_questions is 'Custom fields a service asks its bookers (text, single_choice, multiple_choice, checkbox); answers are checked by the _070_answers trigger on bookings.';
comment on column slotbase.service_questions.max_length is 'text questions: the longest answer allowed (1..5000 characters); null for other kinds.';
comment on column slotbase.service_questions.options is 'single_choice and multiple_choice: the choices (1..50, distinct, non-empty, at most 200 characters each); null for other kinds.';
comment on column slotbase.service_questions.is_required is 'A booker must answer (a required checkbox must be ticked: consent). Staff booking on a customer''s behalf may leave it out.';

-- why: choices are shown as buttons and matched exactly: each must be non-empty, short and
-- distinct. A check constraint cannot hold a subquery, so the check is a trigger.
create function slotbase_private.tg_service_questions__prepare()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.label := btrim(new.label);
  new.help_text := nullif(btrim(new.help_text), '');
  if new.options is not null then
    select array_agg(btrim(o) order by n) into new.options from unnest(new.options) with ordinality as x(o, n);
    if exists (select 1 from unnest(new.options) as o where o = '' or length(o) > 200)
       or (select count(distinct o) from unnest(new.options) as o) <> cardinality(new.options) then
      raise exception 'choices must be distinct, non-empty and at most 200 characters' using errcode = 'SBVAL', hint = 'options';
    end if;
  end if;
  return new;
end
$$;
create trigger _050_prepare before insert or update on slotbase.service_questions
  for each row execute function slotbase_private.tg_service_questions__prepare();
create trigger _100_timestamps before update on slotbase.service_questions
  for each row execute function slotbase_private.tg__set_updated_at();

-- service_questions: like the service itself, every member sees them; tenant-wide owners and
-- admins change them.
create policy select_member on slotbase.service_questions for select to authenticated
  using (tenant_id = (select slotbase.current_tenant_id()) and (select slotbase.current_member_role()) is not null);
comment on policy select_member on slotbase.service_questions is 'Members see the questions of their tenant''s services.';
create policy insert_admin on slotbase.service_questions for insert to authenticated
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and (select slotbase.current_member_location_id()) is null
  );
comment on policy insert_admin on slotbase.service_questions is 'Tenant-wide owners and admins add questions to services.';
create policy update_admin on slotbase.service_questions for update to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and (select slotbase.current_member_location_id()) is null
  )
  with check (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and (select slotbase.current_member_location_id()) is null
  );
comment on policy update_admin on slotbase.service_questions is 'Tenant-wide owners and admins edit questions.';
create policy delete_admin on slotbase.service_questions for delete to authenticated
  using (
    tenant_id = (select slotbase.current_tenant_id())
    and (select slotbase.current_member_role()) in ('owner', 'admin')
    and (select slotbase.current_member_location_id()) is null
  );
comment on policy delete_admin on slotbase.service_questions is 'Tenant-wide owners and admins remove questions (bookings keep their answers).';
grant select, delete on slotbase.service_questions to authenticated;
grant insert (tenant_id, id, service_id, position, kind, label, help_text, is_required, max_length, options)
  on slotbase.service_questions to authenticated;
grant update (position, kind, label, help_text, is_required, max_length, options) on slotbase.service_questions to authenticated;

-- The answers a booking was made with: [{question_id, label, kind, value}] in the service's order.
alter table slotbase.bookings add column answers jsonb not null default '[]'::jsonb;
alter table slotbase.bookings add constraint bookings_answers_check check (jsonb_typeof(answers) = 'array');
grant select (answers) on slotbase.bookings to authenticated;
comment on column slotbase.bookings.answers is 'Answers to the service''s questions as asked at booking time: [{question_id, label, kind, value}]; value is a string (text, single_choice), an array of strings (multiple_choice) or a boolean (checkbox). Written only by the _070_answers trigger.';

-- why: the one place answers are checked: each answer against its question, required questions
-- for bookers, nothing that is not a question of the service. Raises SBANS with hint
-- `answers.<question id>` (or `answers`), so the API names the field.
create function slotbase_private.validate_booking_answers(p_tenant_id uuid, p_service_id uuid, p_input jsonb, p_require boolean)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_q slotbase.service_questions;
  v_value jsonb;
  v_text text;
  v_choices text[];
  v_out jsonb := '[]'::jsonb;
  v_unknown text;
begin
  if p_input is not null and jsonb_typeof(p_input) <> 'object' then
    raise exception 'answers must be an object of question id → answer' using errcode = 'SBANS', hint = 'answers';
  end if;
  if p_input is not null then
    select k into v_unknown
    from jsonb_object_keys(p_input) as k
    where not exists (
      select 1 from slotbase.service_questions as q
      where q.tenant_id = p_tenant_id and q.service_id = p_service_id and q.id::text = k
    )
    limit 1;
    if v_unknown is not null then
      raise exception 'this service has no such question' using errcode = 'SBANS',
        hint = case when v_unknown ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then 'answers.' || v_unknown else 'answers' end;
    end if;
  end if;

  for v_q in
    select * from slotbase.service_questions as q
    where q.tenant_id = p_tenant_id and q.service_id = p_service_id
    order by q.position, q.created_at, q.id
  loop
    v_value := p_input -> v_q.id::text;
    if v_value is not null and jsonb_typeof(v_value) = 'null' then
      v_value := null;
    end if;
    if v_value is not null then
      case v_q.kind
        when 'text' then
          if jsonb_typeof(v_value) <> 'string' then
            raise exception 'the answer must be text' using errcode = 'SBANS', hint = 'answers.' || v_q.id;
          end if;
          v_text := btrim(v_value #>> '{}');
          if length(v_text) > v_q.max_length then
            raise exception 'the answer is longer than % characters', v_q.max_length using errcode = 'SBANS', hint = 'answers.' || v_q.id;
          end if;
          v_value := case when v_text = '' then null else to_jsonb(v_text) end;
        when 'single_choice' then
          if jsonb_typeof(v_value) <> 'string' or not ((v_value #>> '{}') = any (v_q.options)) then
            raise exception 'the answer must be one of the choices' using errcode = 'SBANS', hint = 'answers.' || v_q.id;
          end if;
        when 'multiple_choice' then
          if jsonb_typeof(v_value) <> 'array'
             or exists (select 1 from jsonb_array_elements(v_value) as e where jsonb_typeof(e) <> 'string' or not ((e #>> '{}') = any (v_q.options))) then
            raise exception 'every answer must be one of the choices' using errcode = 'SBANS', hint = 'answers.' || v_q.id;
          end if;
          select array_agg(e order by n) into v_choices
          from jsonb_array_elements_text(v_value) with ordinality as x(e, n);
          if cardinality(v_choices) <> (select count(distinct c) from unnest(v_choices) as c) then
            raise exception 'a choice is given twice' using errcode = 'SBANS', hint = 'answers.' || v_q.id;
          end if;
          -- Stored in the order the question lists its choices.
          select coalesce(jsonb_agg(o order by n), '[]'::jsonb) into v_value
          from unnest(v_q.options) with ordinality as x(o, n)
          where o = any (coalesce(v_choices, '{}'));
          if jsonb_array_length(v_value) = 0 then
            v_value := null;
          end if;
        when 'checkbox' then
          if jsonb_typeof(v_value) <> 'boolean' then
            raise exception 'the answer must be true or false' using errcode = 'SBANS', hint = 'answers.' || v_q.id;
          end if;
          if v_q.is_required and p_require and not (v_value::text)::boolean then
            raise exception 'this box must be ticked' using errcode = 'SBANS', hint = 'answers.' || v_q.id;
          end if;
      end case;
    end if;
    if v_value is null then
      if v_q.is_required and p_require then
        raise exception 'an answer is required' using errcode = 'SBANS', hint = 'answers.' || v_q.id;
      end if;
      continue;
    end if;
    v_out := v_out || jsonb_build_array(jsonb_build_object('question_id', v_q.id, 'label', v_q.label, 'kind', v_q.kind, 'value', v_value));
  end loop;
  return v_out;
end
$$;
comment on function slotbase_private.validate_booking_answers(uuid, uuid, jsonb, boolean) is
  'Checks answers (question id → answer) against a service''s questions and returns them as stored: [{question_id, label, kind, value}]. Raises SBANS (hint answers.<question id>). p_require: required questions must be answered.';

-- why: the answers a booking is inserted with come from the transaction-local setting
-- slotbase.booking_answers (see the top of this file); whatever inserts the row, create_booking
-- or anything after it, the answers are checked and the required ones demanded here.
create function slotbase_private.tg_bookings__answers()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_raw text := nullif(current_setting('slotbase.booking_answers', true), '');
begin
  if v_raw is null and not exists (
    select 1 from slotbase.service_questions as q where q.tenant_id = new.tenant_id and q.service_id = new.service_id
  ) then
    new.answers := '[]'::jsonb;
    return new;
  end if;
  new.answers := slotbase_private.validate_booking_answers(new.tenant_id, new.service_id, v_raw::jsonb, new.source = 'public');
  return new;
end
$$;
create trigger _070_answers before insert on slotbase.bookings
  for each row execute function slotbase_private.tg_bookings__answers();

-- why: how a caller hands answers to the bookings it creates in this transaction (PostgREST-style
-- clients: call it, then create_booking, in one transaction).
create function slotbase.set_booking_answers(p_answers jsonb)
returns void
language sql
volatile
set search_path = ''
as $$
  select pg_catalog.set_config('slotbase.booking_answers', coalesce(p_answers, '{}'::jsonb)::text, true)
$$;
comment on function slotbase.set_booking_answers(jsonb) is
  'The answers (question id → answer) for bookings created later in this transaction; checked when each booking is inserted (SBANS).';

-- why: the booking page renders each public service's questions before the booker books.
create function slotbase.public_service_questions(p_tenant_id uuid)
returns table (
  service_id uuid, id uuid, "position" integer, kind text, label text, help_text text, is_required boolean,
  max_length integer, options text[]
)
language sql
stable
security definer
set search_path = ''
as $$
  select q.service_id, q.id, q.position, q.kind, q.label, q.help_text, q.is_required, q.max_length, q.options
  from slotbase.service_questions as q
  join slotbase.services as s on s.tenant_id = q.tenant_id and s.id = q.service_id
  where q.tenant_id = p_tenant_id and s.is_public and s.deleted_at is null
  order by q.service_id, q.position, q.created_at, q.id
$$;
comment on function slotbase.public_service_questions(uuid) is 'The questions of a tenant''s public services, in each service''s order.';

-- why: messages about a booking show its answers; the worker reads them with the booking.
create function slotbase_private.booking_answers_of(p_tenant_id uuid, p_booking_id uuid)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select b.answers from slotbase.bookings as b where b.tenant_id = p_tenant_id and b.id = p_booking_id
$$;
comment on function slotbase_private.booking_answers_of(uuid, uuid) is 'Worker: the stored answers of one booking ([] when none, null when gone).';

-- why: webhooks carry the answers like the staff API does (same signature; adds `answers`).
create or replace function slotbase_private.webhook_booking_data(p_booking slotbase.bookings)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'id', p_booking.id,
    'code', p_booking.code,
    'status', p_booking.status,
    'source', p_booking.source,
    'service_id', p_booking.service_id,
    'provider_id', p_booking.provider_id,
    'location_id', p_booking.location_id,
    'session_id', p_booking.session_id,
    'starts_at', slotbase_private.webhook_time(p_booking.starts_at),
    'ends_at', slotbase_private.webhook_time(p_booking.ends_at),
    'party_size', p_booking.party_size,
    'contact', jsonb_build_object('name', p_booking.contact_name, 'email', p_booking.contact_email, 'phone', p_booking.contact_phone),
    'notes', p_booking.notes,
    'answers', p_booking.answers,
    'hold_expires_at', slotbase_private.webhook_time(p_booking.hold_expires_at),
    'status_reason', p_booking.status_reason,
    'created_at', slotbase_private.webhook_time(p_booking.created_at),
    'updated_at', slotbase_private.webhook_time(p_booking.updated_at)
  )
$$;

revoke execute on all functions in schema slotbase, slotbase_private from public;
grant execute on function slotbase.set_booking_answers(jsonb) to anon, authenticated;
grant execute on function slotbase.public_service_questions(uuid) to anon, authenticated;
