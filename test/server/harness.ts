/** Start a real sipmeet server on 127.0.0.1 with an OS-chosen SIP port, for tests. */
import { silentLogger } from '../../registrar/log.ts';
import { resolveConfig, type RawOptions } from '../../registrar/server/config.ts';
import { startServer, type RunningServer } from '../../registrar/server/server.ts';

export async function testServer(extra: RawOptions = {}): Promise<RunningServer> {
  const cfg = resolveConfig({ host: '127.0.0.1', 'sip-port': '0', 'http-port': '0', 'log-level': 'silent', ...extra });
  return startServer(cfg, silentLogger());
}
