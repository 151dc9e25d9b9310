import { defineTask } from '#src/jobs/deps.ts';
import { renderInvitationEmail, type InvitationFields } from '#src/jobs/messages/invitation.ts';
import { deliverEmail } from '#src/jobs/notify.ts';
import { InvitationPayload } from '#src/jobs/payloads.ts';

interface InvitationContext {
  tenant_id: string;
  invitation_id: string;
  email: string;
  role: InvitationFields['role'];
  status: 'pending' | 'accepted' | 'revoked' | 'expired';
  expires_at: Date;
  tenant_name: string;
  locale: string;
  time_zone: string;
  location_name: string | null;
  inviter_name: string | null;
  token: string;
}

/**
 * Emails a staff invitation (job_key invitation:<id>, added by slotbase.add_member): the link to
 * /invite?token=… where the invitee sets a password and joins. Re-reads the invitation and sends
 * nothing once it is no longer pending (revoked, accepted, expired, or replaced by a newer one).
 * Once per invitation (dedupe key invitation:<id>:email:<to>), through the delivery log.
 */
export default defineTask((deps) => async (payload, helpers) => {
  const { tenant_id, invitation_id } = InvitationPayload.parse(payload);
  const [ctx] = await deps.sql<InvitationContext[]>`
    select * from slotbase_private.invitation_email_context(${tenant_id}::uuid, ${invitation_id}::uuid)`;
  if (!ctx || ctx.status !== 'pending') {
    helpers.logger.info(`invitation ${invitation_id} not sent: it is ${ctx?.status ?? 'gone'}`);
    return;
  }
  const to = ctx.email.trim().toLowerCase();
  await deliverEmail(deps, {
    tenantId: tenant_id,
    bookingId: null,
    template: 'invitation',
    to,
    dedupeKey: `invitation:${invitation_id}:email:${to}`,
    build: () =>
      renderInvitationEmail(ctx.locale, {
        tenantName: ctx.tenant_name,
        email: ctx.email,
        role: ctx.role,
        locationName: ctx.location_name,
        inviterName: ctx.inviter_name,
        expiresAt: ctx.expires_at,
        timeZone: ctx.time_zone,
        acceptUrl: `${deps.publicUrl}/invite?token=${encodeURIComponent(ctx.token)}`,
      }),
  });
});
