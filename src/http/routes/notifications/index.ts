export { notificationsRouter } from './notifications.handlers.ts';
