import { createRouter } from '../../create-router.ts';
import { availabilityRouter } from './availability.handlers.ts';
import { locationsRouter } from './locations.handlers.ts';
import { providersRouter } from './providers.handlers.ts';
import { questionsRouter } from './questions.handlers.ts';
import { resourcesRouter } from './resources.handlers.ts';
import { schedulingRouter } from './scheduling.handlers.ts';
import { servicesRouter } from './services.handlers.ts';

/** The staff catalog: what a tenant offers (locations, providers, resources, services) and when. */
export const catalogRouter = createRouter()
  .route('/', locationsRouter)
  .route('/', providersRouter)
  .route('/', resourcesRouter)
  .route('/', servicesRouter)
  .route('/', schedulingRouter)
  .route('/', questionsRouter)
  .route('/', availabilityRouter);
