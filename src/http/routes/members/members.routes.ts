import { createRoute, z } from '@hono/zod-openapi';
import { jsonBody, jsonContent, problems, Timestamp, Uuid } from '../../openapi.ts';
import { memberExamples as ex } from '../../examples.ts';
import { IdParam, IncludeDeletedQuery, nonEmpty, pageOf, PageQuery, staffOnly } from '../../staff.ts';
import { Invitation } from '../invitations/invitations.routes.ts';

const Role = z.enum(['owner', 'admin', 'receptionist', 'provider', 'viewer']);

export const Member = z
  .object({
    id: Uuid.openapi({ description: 'Membership id' }),
    user_id: Uuid,
    email: z.string().nullable(),
    display_name: z.string().nullable(),
    role: Role,
    location_id: Uuid.nullable().openapi({ description: 'When set, the member sees and manages only this location' }),
    created_at: Timestamp,
    updated_at: Timestamp,
    deleted_at: Timestamp.nullable(),
  })
  .openapi('Member', { example: ex.member });

export const MemberCreate = z
  .strictObject({
    email: z.email().max(254).openapi({ example: 'reception@clinic.example' }),
    role: Role,
    location_id: Uuid.nullable().optional(),
  })
  .openapi('MemberCreate', { example: ex.memberCreate });

export const MemberPatch = z
  .strictObject({ role: Role.optional(), location_id: Uuid.nullable().optional() })
  .refine(nonEmpty, 'Change at least one field')
  .openapi('MemberPatch', { example: ex.memberPatch });

const tags = ['Members'];

export const listMembers = createRoute({
  method: 'get',
  path: '/v1/members',
  operationId: 'listMembers',
  tags,
  summary: 'Tenant-wide colleagues and those of the caller\'s location',
  ...staffOnly,
  request: { query: PageQuery.extend(IncludeDeletedQuery.shape) },
  responses: { 200: jsonContent(pageOf(Member, 'Member', ex.memberPage), 'Members, oldest first'), ...problems(401, 422) },
});

export const getMember = createRoute({
  method: 'get',
  path: '/v1/members/{id}',
  operationId: 'getMember',
  tags,
  summary: 'A membership (removed ones show deleted_at)',
  ...staffOnly,
  request: { params: IdParam },
  responses: { 200: jsonContent(Member, 'The member'), ...problems(401, 404, 422) },
});

export const addMember = createRoute({
  method: 'post',
  path: '/v1/members',
  operationId: 'addMember',
  tags,
  summary: 'Add a person by email: a member at once when they have an account, otherwise invited by email',
  description:
    'Owners and admins add members; only owners add owners; a location-scoped admin adds members only to their location. ' +
    'An email with a Slotbase account becomes a member at once (201). An email without one gets an invitation (202): a link, ' +
    'valid 7 days, to set a password and join (`POST /v1/auth/accept-invite`); adding the email again replaces its open invitation.',
  ...staffOnly,
  request: { body: jsonBody(MemberCreate) },
  responses: {
    201: jsonContent(Member, 'Added: the email has an account'),
    202: jsonContent(Invitation, 'Invited: no account has this email yet; the invitation is emailed'),
    ...problems(400, 401, 403, 409, 413, 415, 422),
  },
});

export const updateMember = createRoute({
  method: 'patch',
  path: '/v1/members/{id}',
  operationId: 'updateMember',
  tags,
  summary: 'Change a member\'s role or location',
  description: 'A tenant always keeps an active owner: demoting the last one is 409 `last_owner`.',
  ...staffOnly,
  request: { params: IdParam, body: jsonBody(MemberPatch) },
  responses: { 200: jsonContent(Member, 'Updated'), ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
});

export const removeMember = createRoute({
  method: 'delete',
  path: '/v1/members/{id}',
  operationId: 'removeMember',
  tags,
  summary: 'Remove a member (soft delete)',
  description: 'Removing the last owner is 409 `last_owner`.',
  ...staffOnly,
  request: { params: IdParam },
  responses: { 204: { description: 'Removed' }, ...problems(401, 403, 404, 409, 422) },
});
