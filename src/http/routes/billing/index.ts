export { billingRouter } from './billing.handlers.ts';
