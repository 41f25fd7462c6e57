import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { GatewayConfig, loadGatewayConfig } from './config/gateway-config';
import { ManaLlmModule } from './mana-llm.module';

export const GATEWAY_CONFIG_KEY = 'gateway';

/** The standalone service: the environment (and `.env`) validated once, then ManaLlmModule. */
@Module({})
export class AppModule {
  /** `env` replaces process.env and `.env` (tests, embedding); omitted, the real environment is read. */
  static forRoot(env?: Record<string, string | undefined>): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: env !== undefined,
          validate: (raw) => ({
            [GATEWAY_CONFIG_KEY]: loadGatewayConfig(env ?? (raw as Record<string, string>)),
          }),
        }),
        ManaLlmModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService) => config.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY).manaLlm,
          controllers: true,
        }),
      ],
    };
  }
}
