export { webhooksRouter } from './webhooks.handlers.ts';
