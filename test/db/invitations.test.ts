import { beforeAll, describe, expect, it } from 'vitest';
import { constraintOf, expectSqlState, useTestDb, type TestDb } from '../support/db.ts';
import { addMember, createLocation, createTenant, createUser, uniq, type Member, type TenantFixture } from '../support/factories.ts';

/**
 * Adding staff by email: an email with an account becomes a member at once; one without gets an
 * invitation (no users row, no membership), its token only as a hash, its email as a job. All as
 * the user, through slotbase.add_member / revoke_invitation and the invitations policy.
 */
describe('invitations', () => {
  const getDb = useTestDb();
  let db: TestDb;
  let t: TenantFixture;
  let north: string;
  let south: string;
  let admin: Member;
  let northAdmin: Member;
  let receptionist: Member;

  beforeAll(async () => {
    db = getDb();
    t = await createTenant(db);
    north = (await createLocation(db, t.id)).id;
    south = (await createLocation(db, t.id)).id;
    admin = await addMember(db, t.id, 'admin');
    northAdmin = await addMember(db, t.id, 'admin', { locationId: north });
    receptionist = await addMember(db, t.id, 'receptionist');
  });

  const add = (who: Member, email: string, role: string, location: string | null = null) =>
    db.queryAs<{ membership_id: string | null; invitation_id: string | null }>(who, 'select * from slotbase.add_member($1, $2, $3)', [email, role, location]);
  const invitationsSeenBy = async (who: Member) =>
    (await db.queryAs<{ id: string }>(who, 'select id from slotbase.invitations order by created_at')).map((r) => r.id);

  it('an email without an account gets an invitation: no user, no membership, a pending row and a staff_invitation job keyed by it', async () => {
    const email = `${uniq('new-')}@example.test`;
    const [r] = await add(t.owner, email, 'receptionist', north);
    expect(r).toMatchObject({ membership_id: null });
    expect(r!.invitation_id).toBeTruthy();
    const [inv] = await db.queryAs<{ email: string; role: string; location_id: string; status: string; invited_by: string; ttl: string }>(
      t.owner,
      `select email, role, location_id, slotbase.invitation_status(i) as status, invited_by, (expires_at - created_at)::text as ttl
       from slotbase.invitations as i where id = $1`,
      [r!.invitation_id],
    );
    expect(inv).toEqual({ email, role: 'receptionist', location_id: north, status: 'pending', invited_by: t.owner.userId, ttl: '7 days' });
    expect(await db.queryAs(t.owner, 'select 1 from slotbase.users where lower(email) = lower($1)', [email])).toEqual([]);
    const jobs = await db.query<{ key: string; payload: { invitation_id: string } }>(
      `select j.key, j.payload from graphile_worker._private_jobs as j join graphile_worker._private_tasks as k on k.id = j.task_id
       where k.identifier = 'staff_invitation' and j.key = $1`,
      [`invitation:${r!.invitation_id}`],
    );
    expect(jobs.map((j) => j.payload.invitation_id)).toEqual([r!.invitation_id]);
  });

  it('an email with an account (any case) becomes a member at once, with no invitation', async () => {
    const user = await createUser(db);
    const [r] = await add(admin, user.email.toUpperCase(), 'viewer');
    expect(r).toMatchObject({ invitation_id: null });
    const [m] = await db.queryAs<{ user_id: string; role: string }>(admin, 'select user_id, role from slotbase.memberships where id = $1', [r!.membership_id]);
    expect(m).toEqual({ user_id: user.id, role: 'viewer' });
  });

  it('inviting the same email again replaces its open invitation: the old one is revoked', async () => {
    const email = `${uniq('again-')}@example.test`;
    const [first] = await add(t.owner, email, 'viewer');
    const [second] = await add(t.owner, email.toUpperCase(), 'admin');
    const rows = await db.queryAs<{ id: string; role: string; status: string }>(
      t.owner,
      'select id, role, slotbase.invitation_status(i) as status from slotbase.invitations as i where lower(email) = lower($1) order by created_at',
      [email],
    );
    expect(rows).toEqual([
      { id: first!.invitation_id, role: 'viewer', status: 'revoked' },
      { id: second!.invitation_id, role: 'admin', status: 'pending' },
    ]);
  });

  it('the same rights as adding a member: only owners invite owners, a branch admin only into their branch, others not at all', async () => {
    await expectSqlState(add(admin, `${uniq('o-')}@example.test`, 'owner'), '42501');
    await expectSqlState(add(receptionist, `${uniq('r-')}@example.test`, 'viewer'), '42501');
    await expectSqlState(add(northAdmin, `${uniq('s-')}@example.test`, 'viewer', south), '42501');
    await expectSqlState(add(northAdmin, `${uniq('w-')}@example.test`, 'viewer', null), '42501');
    const [ok] = await add(northAdmin, `${uniq('n-')}@example.test`, 'viewer', north);
    expect(ok!.invitation_id).toBeTruthy();
    const bad = await expectSqlState(add(t.owner, `${uniq('x-')}@example.test`, 'owner', north), '23514');
    expect(constraintOf(bad)).toBe('invitations_owner_unscoped_check');
  });

  it('a branch admin cannot replace an invitation outside their branch: 23505 on the open invitation', async () => {
    const email = `${uniq('wide-')}@example.test`;
    await add(t.owner, email, 'admin');
    const e = await expectSqlState(add(northAdmin, email, 'viewer', north), '23505');
    expect(constraintOf(e)).toBe('invitations_tenant_id_email_key');
  });

  it('owners and admins see invitations of their scope; receptionists and other tenants see none', async () => {
    const [wide] = await add(t.owner, `${uniq('wide-')}@example.test`, 'viewer');
    const [branch] = await add(t.owner, `${uniq('branch-')}@example.test`, 'viewer', north);
    expect(await invitationsSeenBy(admin)).toEqual(expect.arrayContaining([wide!.invitation_id, branch!.invitation_id]));
    const northSees = await invitationsSeenBy(northAdmin);
    expect(northSees).toContain(branch!.invitation_id);
    expect(northSees).not.toContain(wide!.invitation_id);
    expect(await invitationsSeenBy(receptionist)).toEqual([]);
    const other = await createTenant(db);
    expect(await invitationsSeenBy(other.owner)).toEqual([]);
  });

  it('callers cannot write invitations, read token hashes, or call the accept functions (slotbase_api only)', async () => {
    await expectSqlState(
      db.queryAs(t.owner, `insert into slotbase.invitations (tenant_id, email, role, expires_at) values ($1, 'x@example.test', 'viewer', now() + interval '1 day')`, [t.id]),
      '42501',
    );
    await expectSqlState(db.queryAs(t.owner, 'select * from slotbase_private.invitation_secrets'), '42501');
    await expectSqlState(db.queryAs(t.owner, `select * from slotbase_private.invitation_by_token('\\x00'::bytea)`), '42501');
    await expectSqlState(db.queryAs(t.owner, `select * from slotbase_private.accept_invitation('\\x00'::bytea, 'h')`), '42501');
  });

  it('revoking: open invitations of the caller\'s scope only; a second revoke, another tenant or a receptionist gets SBNF1', async () => {
    const [r] = await add(t.owner, `${uniq('rev-')}@example.test`, 'viewer', south);
    await expectSqlState(db.queryAs(northAdmin, 'select slotbase.revoke_invitation($1)', [r!.invitation_id]), 'SBNF1');
    await expectSqlState(db.queryAs(receptionist, 'select slotbase.revoke_invitation($1)', [r!.invitation_id]), 'SBNF1');
    const other = await createTenant(db);
    await expectSqlState(db.queryAs(other.owner, 'select slotbase.revoke_invitation($1)', [r!.invitation_id]), 'SBNF1');
    const [revoked] = await db.queryAs<{ revoked_by: string }>(admin, 'select revoked_by from slotbase.revoke_invitation($1)', [r!.invitation_id]);
    expect(revoked!.revoked_by).toBe(admin.userId);
    await expectSqlState(db.queryAs(admin, 'select slotbase.revoke_invitation($1)', [r!.invitation_id]), 'SBNF1');
    const [owners] = await add(t.owner, `${uniq('boss-')}@example.test`, 'owner');
    await expectSqlState(db.queryAs(admin, 'select slotbase.revoke_invitation($1)', [owners!.invitation_id]), '42501');
  });
});
