import { AddressInfo } from 'node:net';
import { createGateway, Gateway } from '../../src/bootstrap';

export interface RunningGateway extends Gateway {
  url: string;
  close(): Promise<void>;
}

/**
 * The real service (same bootstrap as main.ts) on 127.0.0.1 port 0, configured only by `env`
 * (process.env and .env are not read). No aliases file unless the test names one.
 */
export async function startGateway(env: Record<string, string | undefined>): Promise<RunningGateway> {
  const gateway = await createGateway(
    { LOG_LEVEL: 'error', ALIASES_PATH: undefined, ...env },
    { forceCloseConnections: true },
  );
  await gateway.app.listen(0, '127.0.0.1');
  const { port } = gateway.app.getHttpServer().address() as AddressInfo;
  return { ...gateway, url: `http://127.0.0.1:${port}`, close: () => gateway.app.close() };
}
