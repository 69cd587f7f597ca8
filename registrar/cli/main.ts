/**
 * `sipmeet <command>`: the one entry point. `server` runs the registrar (and, later, the focus and media
 * relay); client commands (`join`, `create`, `list`, `cancel`, `register`, `gui`) belong to the softclient.
 *
 * CLI contract: bad input prints ONE readable line to stderr and exits non-zero; never a stack trace.
 */
import { parseArgs } from 'node:util';
import { ConfigError, optionsFromEnv, optionsFromFile, resolveConfig, type RawOptions } from '../server/config.ts';
import { startServer } from '../server/server.ts';
import { createLogger } from '../log.ts';
import { CLIENT_COMMANDS, CLIENT_USAGE, type ClientCommand, runClientCommand } from '../../softclient/cli/commands.ts';

const USAGE = `usage: sipmeet <command> [options]

commands:
  server    run the SIP registrar / conference server
            --host ADDR        bind address (default 0.0.0.0)
            --advertise ADDR   address written into SIP headers (default: first non-internal IPv4)
            --sip-port N       SIP port, UDP and TCP (default 5060)
            --http-port N      HTTP API port (default 8080)
            --rtp-ports A-B    media port range (default 20000-20999)
            --domain NAME      SIP domain served (default: any name or address that reaches this server)
            --users FILE       users file; turns on digest authentication
            --log-level LEVEL  fatal|error|warn|info|debug|trace|silent (default info)
            --p2p auto|off     two-party meetings peer-to-peer (default off)
            --config FILE      JSON file with the options above (flags and SIPMEET_* variables win)
${CLIENT_USAGE}`;

function fail(msg: string, code = 2): number {
  process.stderr.write(`sipmeet: ${msg}\n`);
  return code;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  switch (command) {
    case 'server':
      return serverCommand(rest);
    default:
      if ((CLIENT_COMMANDS as readonly string[]).includes(command)) return runClientCommand(command as ClientCommand, rest);
      return fail(`unknown command "${command}" (try: sipmeet --help)`);
  }
}

async function serverCommand(argv: string[]): Promise<number> {
  let raw: RawOptions;
  let configFile: string | undefined;
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        advertise: { type: 'string' },
        'sip-port': { type: 'string' },
        'http-port': { type: 'string' },
        'rtp-ports': { type: 'string' },
        domain: { type: 'string' },
        users: { type: 'string' },
        'log-level': { type: 'string' },
        p2p: { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    configFile = values.config ?? process.env.SIPMEET_CONFIG;
    const { config: _c, help: _h, ...flags } = values;
    raw = flags as RawOptions;
  } catch (e) {
    return fail((e as Error).message.split('\n')[0]!);
  }
  let cfg;
  try {
    cfg = resolveConfig(configFile ? optionsFromFile(configFile) : {}, optionsFromEnv(process.env), raw);
  } catch (e) {
    if (e instanceof ConfigError) return fail(e.message);
    throw e;
  }
  const logger = createLogger({ level: cfg.logLevel });
  let server;
  try {
    server = await startServer(cfg, logger);
  } catch (e) {
    return fail((e as Error).message, 1);
  }
  const sip = server.sipUri;
  process.stdout.write(
    `sipmeet server listening: SIP udp+tcp ${cfg.host}:${server.sipPort}, advertised as ${cfg.advertise}\n` +
      `  dial a meeting:    ${sip('conf-42')}\n` +
      `  register a phone:  registrar/proxy ${server.advertisedHostPort}, user e.g. ${sip('alice')}` +
      `${cfg.usersFile ? ` (digest auth: users from ${cfg.usersFile})` : ' (no authentication: open registrar)'}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return 0;
}
