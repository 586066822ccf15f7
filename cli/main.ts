#!/usr/bin/env node
/** The eastwatch command line: one binary, a subcommand per role or operator task. */
import { Command, InvalidArgumentError } from 'commander';
import { UserError } from '../core/error-text';
import { redactUrl } from '../core/redact';
import { columnsMarkdown } from '../core/columns';
import { FlowSchema } from '../core/flow';
import { createLogger } from '../core/log';
import { openStore } from '../core/clickhouse';
import { migrate } from '../core/migrations';
import { startApp } from '../app/app';
import { configWarnings, envMarkdown, loadConfig, redacted } from '../app/config';
import { parseRoles, ROLES, Role, RoleError } from '../app/roles';
import { decodeCapture } from './decode';
import { runDemo } from './demo';
import { DEFAULT_SCENARIO, parseDuration } from '../simulator/scenario';
import { ingestStdin } from './ingest';
import { LOG_FORMATS, LogFormat } from '../ingest/logs/collector';
import { produceSimulated } from './produce';
import { registerAllocations } from './allocations';
import { registerSimulate } from './simulate';
import { registerInventory } from './inventory';
import { registerScore } from './score';
import { registerAlerts } from './alerts';
import { registerTokens } from './tokens';

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

const roleList = (v: string): Role[] => {
  try {
    return parseRoles(v);
  } catch (e) {
    if (e instanceof RoleError) throw new InvalidArgumentError(e.message);
    throw e;
  }
};

/** The configuration; an EASTWATCH_ variable eastwatch does not know (a typo) is warned about, not ignored in silence. */
function config(opts: { config?: string }) {
  const cfg = loadConfig(process.env, opts.config ?? process.env.EASTWATCH_CONFIG);
  const warnings = configWarnings(process.env);
  if (warnings.length > 0) {
    const log = createLogger(cfg.logLevel);
    for (const w of warnings) log.warn(w);
  }
  return cfg;
}

const program = new Command('eastwatch')
  .description('Watch the east-west traffic of an AI cluster: flows in, Kafka, ClickHouse, detectors, alerts.')
  .option('-c, --config <file>', 'YAML config file (also EASTWATCH_CONFIG); env vars override it')
  .option('--debug', 'on an error, print its stack trace too')
  .showHelpAfterError();

program.command('start')
  .description('run every role in one process (bundled Kafka broker when KAFKA_BROKERS is unset) until SIGTERM')
  .option('--roles <list>', `comma-separated roles to run: ${ROLES.join(', ')}`, roleList, [...ROLES])
  .action(async (opts: { roles: Role[] }) => {
    const cfg = config(program.opts());
    const log = createLogger(cfg.logLevel);
    log.info({ config: redacted(cfg), roles: opts.roles }, 'starting');
    const exit = (code: number) => {
      log.flush();
      process.exit(code);
    };
    // A stage that fails fatally has been logged and every stage stopped: exit non-zero for the supervisor.
    const app = await startApp(cfg, log, opts.roles, () => exit(1));
    log.info({ httpPort: app.httpPort }, 'eastwatch running');
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'draining and stopping');
      await app.stop();
      log.info('stopped');
      exit(0);
    };
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
    process.on('SIGINT', () => void shutdown('SIGINT'));
  });

program.command('demo')
  .description('the main job on one machine: bundled Kafka and chDB, the simulated cluster with injected attacks, the alerts and their score')
  .option('--scenario <file>', 'scenario YAML', DEFAULT_SCENARIO)
  .option('--speed <x>', 'simulated seconds per wall second', positiveInt, 6)
  .option('--duration <d>', 'play only the scenario\'s first D (e.g. 3h): what starts later is not played', (v: string) => {
    const ms = parseDuration(v);
    if (ms === undefined || ms <= 0) throw new InvalidArgumentError('expected a duration such as 90s, 15m or 3h');
    return ms;
  })
  .action(async (opts: { scenario: string; speed: number; duration?: number }) => {
    const cfg = config(program.opts());
    await runDemo(cfg, createLogger(cfg.logLevel === 'info' ? 'warn' : cfg.logLevel), opts);
  });

program.command('ingest')
  .description('read Hubble flow JSON or proxy access-log lines from stdin into the flows topic')
  .requiredOption('--format <format>', `line format: ${LOG_FORMATS.join(', ')}`, (v: string) => {
    if (!(LOG_FORMATS as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${LOG_FORMATS.join(', ')}`);
    return v as LogFormat;
  })
  .action(async (opts: { format: LogFormat }) => {
    const cfg = config(program.opts());
    const summary = await ingestStdin(cfg, createLogger(cfg.logLevel === 'info' ? 'warn' : cfg.logLevel), opts.format);
    console.error(JSON.stringify(summary));
    process.exit(0); // every flow is acknowledged; a Kafka client still winding down must not keep the pipe open
  });

program.command('migrate')
  .description('apply ClickHouse migrations (also done on start)')
  .action(async () => {
    const cfg = config(program.opts());
    const log = createLogger(cfg.logLevel);
    const store = openStore(cfg.clickhouse, cfg.home);
    try {
      console.log(JSON.stringify(await migrate(store, cfg.clickhouse, log)));
    } finally {
      await store.close();
    }
  });

program.command('produce')
  .description('produce the flows of a simulator scenario straight to the flows topic (load for the writer)')
  .option('--flows <n>', 'flows to produce', positiveInt, 100_000)
  .option('--scenario <file>', 'scenario YAML', DEFAULT_SCENARIO)
  .option('--seed <n>', 'override the scenario\'s seed', positiveInt)
  .action(async (opts: { flows: number; scenario: string; seed?: number }) => {
    const cfg = config(program.opts());
    const log = createLogger(cfg.logLevel);
    console.log(JSON.stringify(await produceSimulated(cfg, log, opts.flows, opts)));
  });

program.command('query')
  .description('run a read-only SQL query against eastwatch\'s ClickHouse and print JSON lines')
  .argument('<sql>', 'SELECT statement; tables live in database CLICKHOUSE_DATABASE (default eastwatch)')
  .action(async (sql: string) => {
    const cfg = config(program.opts());
    const store = openStore(cfg.clickhouse, cfg.home);
    try {
      const rs = await store.client.query({ query: sql, format: 'JSONEachRow', clickhouse_settings: { readonly: '1' } });
      // ClickHouse's own JSON lines, not parsed: a UInt64 sum past 2^53 stays exact.
      process.stdout.write(await rs.text());
    } finally {
      await store.close();
    }
  });

program.command('decode')
  .description('print the flow records in a pcap/pcapng capture (IPFIX, NetFlow v9, sFlow over UDP) as JSON lines')
  .argument('<file>', 'capture file')
  .option('--counters', 'print sFlow interface counters too')
  .action((file: string, opts: { counters?: boolean }) => {
    // A reader that stops early (| head) is not an error.
    process.stdout.on('error', (e: NodeJS.ErrnoException) => process.exit(e.code === 'EPIPE' ? 0 : 1));
    const cfg = config(program.opts());
    const log = createLogger(cfg.logLevel === 'info' ? 'warn' : cfg.logLevel);
    const summary = decodeCapture(file, log, (kind, record) => {
      if (kind === 'flow' || opts.counters) process.stdout.write(`${JSON.stringify(kind === 'flow' ? record : { counter: record })}\n`);
    }, new Map(Object.entries(cfg.collectors.enterpriseNames)));
    console.error(JSON.stringify(summary));
  });

registerInventory(program, () => config(program.opts()));
registerAllocations(program, () => config(program.opts()));
registerSimulate(program, () => config(program.opts()));
registerScore(program, () => config(program.opts()));
registerAlerts(program, () => config(program.opts()));
registerTokens(program, () => config(program.opts()));

program.command('config')
  .description('print the effective configuration (secrets redacted), or the environment variables')
  .option('--env', 'print the environment variables as a markdown table')
  .action((opts: { env?: boolean }) => {
    if (opts.env) console.log(envMarkdown());
    else console.log(JSON.stringify(redacted(config(program.opts())), null, 2));
  });

program.command('schema')
  .description('print the flows table columns, derived from the Flow schema, as a markdown table')
  .action(() => console.log(columnsMarkdown(FlowSchema)));

// One line for the operator (exit 2 for a bad setting or input, 1 for anything else); the stack with --debug.
program.parseAsync(process.argv).catch((e: unknown) => {
  const usage = e instanceof UserError;
  const err = e instanceof Error ? e : new Error(String(e));
  console.error(`eastwatch: ${usage ? '' : `${err.name}: `}${redactUrl(err.message)}`);
  if (program.opts<{ debug?: boolean }>().debug) console.error(redactUrl(err.stack ?? ''));
  process.exit(usage ? 2 : 1);
});
