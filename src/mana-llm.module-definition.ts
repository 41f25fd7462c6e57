import { ConfigurableModuleBuilder } from '@nestjs/common';
import { ManaLlmOptions } from './core/mana-llm.options';
import { HTTP_CONTROLLERS } from './http/http-controllers';

export interface ManaLlmModuleExtras {
  /** Mount the OpenAI-compatible HTTP controllers (`/v1/*`, `/health*`); false for library-only use. */
  controllers: boolean;
  /** Make the client injectable everywhere without importing the module again. */
  isGlobal: boolean;
}

export const {
  ConfigurableModuleClass: ManaLlmConfigurableModule,
  MODULE_OPTIONS_TOKEN: MANA_LLM_OPTIONS,
  OPTIONS_TYPE: MANA_LLM_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: MANA_LLM_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ManaLlmOptions>({ moduleName: 'ManaLlm' })
  .setClassMethodName('forRoot')
  .setExtras<ManaLlmModuleExtras>({ controllers: true, isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
    controllers: extras.controllers ? HTTP_CONTROLLERS : [],
  }))
  .build();
