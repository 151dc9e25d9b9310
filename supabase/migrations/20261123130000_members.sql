-- Adding staff by email. Callers may insert memberships but never users (identities are global),
-- so adding someone who has no account yet goes through one function.

-- why: an owner or admin adds a colleague by email, creating the user row when the email is new.
-- security definer (it writes slotbase.users, which no caller may insert into) bypasses RLS, so it
-- repeats the memberships insert policy itself: owners and admins only, only owners add owners, a
-- location-scoped admin only into their own location.
create function slotbase.add_member(p_email text, p_role text, p_location_id uuid default null)
returns slotbase.memberships
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_caller_role text := slotbase.current_member_role();
  v_user_id uuid;
  v_membership slotbase.memberships;
begin
  if v_caller_role is null
     or v_caller_role not in ('owner', 'admin')
     or (p_role = 'owner' and v_caller_role <> 'owner')
     or not coalesce(slotbase.can_see_location(p_location_id), false) then
    raise exception 'only owners and admins add members, within their scope' using errcode = 'insufficient_privilege';
  end if;

  select u.id into v_user_id from slotbase.users as u where lower(u.email) = lower(btrim(p_email));
  if v_user_id is null then
    -- A concurrent add of the same new email: one insert wins, the other reads its row.
    insert into slotbase.users (email) values (btrim(p_email)) on conflict do nothing returning id into v_user_id;
    if v_user_id is null then
      select u.id into v_user_id from slotbase.users as u where lower(u.email) = lower(btrim(p_email));
    end if;
  end if;

  insert into slotbase.memberships (tenant_id, user_id, role, location_id)
  values (slotbase.current_tenant_id(), v_user_id, p_role, p_location_id)
  returning * into v_membership;
  return v_membership;
end
$$;
comment on function slotbase.add_member(text, text, uuid) is 'Adds the user with this email (created when new) to the current tenant. Raises 42501 outside the caller''s rights, 23505 memberships_tenant_id_user_id_key when already a member, 23514 on a bad email or role, 23503 for an unknown location.';
grant execute on function slotbase.add_member(text, text, uuid) to authenticated;

revoke execute on all functions in schema slotbase, slotbase_private from public;
