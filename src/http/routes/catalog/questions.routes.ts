import { createRoute, z } from '@hono/zod-openapi';
import { questionExamples as ex } from '../../examples.ts';
import { jsonBody, jsonContent, problems, Timestamp, Uuid } from '../../openapi.ts';
import { nonEmpty, staffOnly } from '../../staff.ts';

const tags = ['Services'];

export const QUESTION_KINDS = ['text', 'single_choice', 'multiple_choice', 'checkbox'] as const;
export const QuestionKind = z.enum(QUESTION_KINDS).openapi('QuestionKind', {
  description: '`text` (free text up to `max_length`), `single_choice` / `multiple_choice` (from `options`), `checkbox` (true/false; a required one must be ticked)',
});

const Label = z.string().trim().min(1).max(200);
const HelpText = z.string().trim().max(1000);
const Options = z.array(z.string().trim().min(1).max(200)).min(1).max(50).openapi({ description: 'The choices of a choice question (distinct), in the order shown', example: ['Public', 'Private', 'None'] });

/** What a booker sees of a question (public services list). */
export const PublicQuestion = z
  .object({
    id: Uuid,
    position: z.number().int(),
    kind: QuestionKind,
    label: z.string(),
    help_text: z.string().nullable(),
    is_required: z.boolean(),
    max_length: z.number().int().nullable().openapi({ description: 'text questions: the longest answer' }),
    options: z.array(z.string()).nullable().openapi({ description: 'choice questions: the choices' }),
  })
  .openapi('PublicQuestion', { example: ex.publicQuestion });

export const Question = PublicQuestion.extend({ service_id: Uuid, created_at: Timestamp, updated_at: Timestamp }).openapi('Question', { example: ex.question });

export const QuestionCreate = z
  .strictObject({
    kind: QuestionKind,
    label: Label,
    help_text: HelpText.optional(),
    is_required: z.boolean().default(false),
    max_length: z.number().int().min(1).max(5000).optional().openapi({ description: 'text only; default 500' }),
    options: Options.optional().openapi({ description: 'single_choice and multiple_choice only (required there)' }),
    position: z.number().int().min(0).max(10000).optional().openapi({ description: 'Order among the service\'s questions (ascending); default: after the last' }),
  })
  .openapi('QuestionCreate', { example: ex.createRequest });

export const QuestionPatch = z
  .strictObject({
    kind: QuestionKind.optional(),
    label: Label.optional(),
    help_text: HelpText.nullable().optional(),
    is_required: z.boolean().optional(),
    max_length: z.number().int().min(1).max(5000).nullable().optional(),
    options: Options.nullable().optional(),
    position: z.number().int().min(0).max(10000).optional(),
  })
  .refine(nonEmpty, { message: 'Change at least one field' })
  .openapi('QuestionPatch', { example: ex.patchRequest });

/**
 * Answers a booker gives: question id → answer (a string for text and single_choice, an array of
 * strings for multiple_choice, true/false for checkbox). Checked in SQL against the service's
 * questions; a bad or missing required answer is 422 `invalid_answer` naming `answers.<question id>`.
 */
export const AnswersInput = z
  .record(z.uuid(), z.union([z.string().max(5000), z.array(z.string().max(200)).max(50), z.boolean(), z.null()]))
  .openapi('BookingAnswersInput', {
    description: 'Answers to the service\'s questions by question id: text and single_choice → string, multiple_choice → array of strings, checkbox → boolean',
    example: ex.answersRequest,
  });

/** An answer as stored with the booking: the question as it was asked, and the answer. */
export const Answer = z
  .object({
    question_id: Uuid,
    label: z.string(),
    kind: QuestionKind,
    value: z.union([z.string(), z.array(z.string()), z.boolean()]),
  })
  .openapi('BookingAnswer', { example: ex.answers[0] });

const ServiceParam = z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) });
const QuestionParams = ServiceParam.extend({ question_id: Uuid.openapi({ param: { name: 'question_id', in: 'path' } }) });

export const listQuestions = createRoute({
  method: 'get',
  path: '/v1/services/{id}/questions',
  operationId: 'listServiceQuestions',
  tags,
  summary: 'The questions a service asks its bookers, in order',
  ...staffOnly,
  request: { params: ServiceParam },
  responses: { 200: jsonContent(z.object({ data: z.array(Question) }).openapi('QuestionList', { example: ex.questions }), 'Questions'), ...problems(401, 403, 404, 422) },
});

export const createQuestion = createRoute({
  method: 'post',
  path: '/v1/services/{id}/questions',
  operationId: 'createServiceQuestion',
  tags,
  summary: 'Add a question to a service (tenant-wide owners and admins)',
  ...staffOnly,
  request: { params: ServiceParam, body: jsonBody(QuestionCreate) },
  responses: { 201: jsonContent(Question, 'Created'), ...problems(400, 401, 403, 404, 413, 415, 422) },
});

export const updateQuestion = createRoute({
  method: 'patch',
  path: '/v1/services/{id}/questions/{question_id}',
  operationId: 'updateServiceQuestion',
  tags,
  summary: 'Change a question (bookings keep the answers they were made with)',
  ...staffOnly,
  request: { params: QuestionParams, body: jsonBody(QuestionPatch) },
  responses: { 200: jsonContent(Question, 'Updated'), ...problems(400, 401, 403, 404, 413, 415, 422) },
});

export const deleteQuestion = createRoute({
  method: 'delete',
  path: '/v1/services/{id}/questions/{question_id}',
  operationId: 'deleteServiceQuestion',
  tags,
  summary: 'Remove a question (bookings keep their answers)',
  ...staffOnly,
  request: { params: QuestionParams },
  responses: { 204: { description: 'Removed' }, ...problems(401, 403, 404, 422) },
});
