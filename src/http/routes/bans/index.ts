export { bansRouter } from './bans.handlers.ts';
