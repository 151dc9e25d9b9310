import { loadConfig, ConfigError, type Config } from '#src/config.ts';
import { startEmbeddedPostgres, type EmbeddedServer } from '#src/db/embedded.ts';
import { migrate, MigrationError } from '#src/db/migrate.ts';
import { createLogger, type Logger } from '#src/lib/logger.ts';

const USAGE = `usage: slotbase <command>

commands:
  start     start Slotbase: the embedded PostgreSQL unless DATABASE_URL is set, then migrate
            and stay up until Ctrl-C
  migrate   apply pending migrations to DATABASE_URL (or the embedded database) and exit
  help      show this text
`;

/** Entry point of the `slotbase` command; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command = 'help'] = argv;
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  const logger = createLogger(config.LOG_LEVEL);
  try {
    switch (command) {
      case 'start':
        return await start(config, logger);
      case 'migrate':
        return await migrateOnce(config, logger);
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return 0;
      default:
        console.error(`unknown command: ${command}\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof MigrationError) {
      logger.fatal({ reason: error.reason, files: error.files }, error.message);
      return 1;
    }
    logger.fatal({ err: error }, 'slotbase stopped on an error');
    return 1;
  }
}

/** The database to use: DATABASE_URL, or the embedded server started here. */
async function openDatabase(config: Config, logger: Logger): Promise<{ databaseUrl: string; embedded?: EmbeddedServer }> {
  if (config.DATABASE_URL) return { databaseUrl: config.DATABASE_URL };
  const embedded = await startEmbeddedPostgres({
    dataDir: config.SLOTBASE_DATA_DIR,
    port: config.SLOTBASE_EMBEDDED_PG_PORT,
    logger,
  });
  logger.info({ port: embedded.port, dataDir: config.SLOTBASE_DATA_DIR }, 'embedded PostgreSQL is up');
  return { databaseUrl: embedded.databaseUrl, embedded };
}

async function migrateOnce(config: Config, logger: Logger): Promise<number> {
  const { databaseUrl, embedded } = await openDatabase(config, logger);
  try {
    const result = await migrate({ databaseUrl, logger });
    logger.info({ applied: result.applied.length, alreadyApplied: result.alreadyApplied }, 'database is up to date');
    return 0;
  } finally {
    await embedded?.stop();
  }
}

async function start(config: Config, logger: Logger): Promise<number> {
  const { databaseUrl, embedded } = await openDatabase(config, logger);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('shutting down');
      await embedded?.stop();
    })());
  try {
    const result = await migrate({ databaseUrl, logger });
    logger.info({ applied: result.applied.length, alreadyApplied: result.alreadyApplied }, 'database is up to date');
  } catch (error) {
    await stop();
    throw error;
  }
  console.log(
    [
      '',
      'Slotbase is running.',
      `  database  ${redactPassword(databaseUrl)}${embedded ? '   (embedded PostgreSQL; data in ' + config.SLOTBASE_DATA_DIR + '/)' : ''}`,
      embedded ? `            psql "${databaseUrl}"` : '',
      '  Press Ctrl-C to stop.',
      '',
    ]
      .filter((l) => l !== '')
      .join('\n'),
  );
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'signal received');
      void stop().then(resolve);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  return 0;
}

function redactPassword(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
