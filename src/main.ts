import 'reflect-metadata';
import { createGateway } from './bootstrap';

/** The standalone service. Nothing here runs when the package is imported (see index.ts). */
async function main(): Promise<void> {
  const { app, config } = await createGateway();
  await app.listen(config.port);
}

main().catch((err: unknown) => {
  // One clear line (or one per bad variable) instead of a stack trace for configuration mistakes.
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`mana-llm failed to start: ${message}\n`);
  process.exit(1);
});
