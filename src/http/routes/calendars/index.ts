export { calendarsRouter } from './calendars.handlers.ts';
