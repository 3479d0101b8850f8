// berthd: the daemon's command line, with dockerd's flag names (`dockerd --help`) where they apply.
// scripts/build.mjs bundles this file to dist/berthd.mjs; bin/berthd.js runs that.
import { Command, Option } from 'commander';
import { messageOf } from '../errors/index.ts';
import { DEFAULT_CONFIG_FILE, loadConfigFile, mergeConfig, type DaemonConfig } from './config.ts';
import { makeLogger } from './services.ts';
import { Daemon } from './server.ts';
import { BERTH_VERSION } from './routes/system.ts';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

function program(): Command {
  return new Command('berthd')
    .description('A self-sufficient runtime for containers (the berth daemon)')
    .helpOption('--help', 'Print usage')
    .option('--data-root <dir>', 'Root directory of persistent berth state')
    .option('-H, --host <socket>', 'Daemon socket(s) to connect to (unix:///path.sock)', collect)
    .option('--config-file <file>', 'Daemon configuration file', DEFAULT_CONFIG_FILE)
    .option('-D, --debug', 'Enable debug mode')
    .option('-l, --log-level <level>', 'Set the logging level ("debug"|"info"|"warn"|"error"|"fatal")')
    .option('-p, --pidfile <file>', 'Path to use for daemon PID file')
    .option('-G, --group <group>', 'Group for the unix socket')
    .option('--label <label>', 'Set key=value labels to the daemon', collect)
    .option('--experimental', 'Enable experimental features')
    .option('--registry-mirror <url>', 'Preferred registry mirror', collect)
    .option('--insecure-registry <host>', 'Enable insecure registry communication', collect)
    .addOption(new Option('--max-concurrent-downloads <n>', 'Set the max concurrent downloads').argParser(Number))
    .addOption(new Option('--max-concurrent-uploads <n>', 'Set the max concurrent uploads').argParser(Number))
    .option('--bip <cidr>', 'Specify default-bridge IP')
    .option('--default-runtime <name>', 'Default OCI runtime for containers')
    .option('--live-restore', 'Enable live restore of containers when the daemon stops')
    .option('-v, --version', 'Print version information and quit');
}

/** Flags the user actually gave, under daemon.json's key names (only those count for conflicts). */
function flagConfig(o: Record<string, unknown>): Partial<DaemonConfig> {
  const map: [string, keyof DaemonConfig][] = [
    ['dataRoot', 'data-root'], ['host', 'hosts'], ['debug', 'debug'], ['logLevel', 'log-level'], ['pidfile', 'pidfile'],
    ['group', 'group'], ['label', 'labels'], ['experimental', 'experimental'], ['registryMirror', 'registry-mirrors'],
    ['insecureRegistry', 'insecure-registries'], ['maxConcurrentDownloads', 'max-concurrent-downloads'],
    ['maxConcurrentUploads', 'max-concurrent-uploads'], ['bip', 'bip'], ['defaultRuntime', 'default-runtime'],
    ['liveRestore', 'live-restore'],
  ];
  const out: Record<string, unknown> = {};
  for (const [flag, key] of map) if (o[flag] !== undefined) out[key] = o[flag];
  return out as Partial<DaemonConfig>;
}

export async function main(argv: string[]): Promise<number> {
  const cmd = program();
  cmd.exitOverride();
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (e) {
    return (e as { exitCode?: number }).exitCode ?? 125;
  }
  const o = cmd.opts();
  if (o.version) {
    process.stdout.write(`berthd version ${BERTH_VERSION}, build unknown\n`);
    return 0;
  }
  let config: DaemonConfig;
  try {
    const path = String(o.configFile);
    const explicit = cmd.getOptionValueSource('configFile') === 'cli';
    config = mergeConfig(await loadConfigFile(path, explicit), flagConfig(o), path);
    if (o.logLevel === 'debug') config.debug = true;
  } catch (e) {
    process.stderr.write(`${messageOf(e)}\n`);
    return 1;
  }
  const log = makeLogger(config.debug);
  // A client that goes away mid-stream must not take the daemon (and every other client) down with it.
  // (PREMATURE_CLOSE / STREAM_DESTROYED are streamx's codes: tar-stream entries of a save whose client hung up.)
  const benign = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED', 'ABORT_ERR',
    'PREMATURE_CLOSE', 'STREAM_DESTROYED']);
  process.on('unhandledRejection', (e) => log.error(`unhandled rejection: ${(e as Error)?.stack ?? messageOf(e)}`));
  process.on('uncaughtException', (e) => {
    log.error(`uncaught exception: ${e.stack ?? messageOf(e)}`);
    if (!benign.has((e as NodeJS.ErrnoException).code ?? '')) process.exit(1);
  });
  let daemon: Daemon;
  try {
    daemon = await Daemon.start(config, log);
  } catch (e) {
    log.error(`failed to start daemon: ${messageOf(e)}`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (++signals > 1) {
        log.info(`received ${sig} again, exiting without waiting`);
        process.exit(1);
      }
      log.info(`processing signal '${sig}'`);
      daemon.stop().then(() => resolve(0), (e) => { log.error(`stop: ${messageOf(e)}`); resolve(1); });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('SIGHUP', () => log.info('SIGHUP: configuration reload is not supported yet'));
  });
}

// exit once stopped, as dockerd does: the stores are closed by then, and a watcher still armed on a running
// container (they outlive berthd under conmon) must not keep the process up after "berthd stopped"
process.exit(await main(process.argv.slice(2)));
