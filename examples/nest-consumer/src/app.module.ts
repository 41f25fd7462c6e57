import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { ManaLlmModule } from 'mana-llm';
import { AssistantController } from './assistant.controller';
import { AssistantService } from './assistant.service';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    // mana-llm in-process: no HTTP controllers of its own, options from this app's ConfigService.
    ManaLlmModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      controllers: false,
      useFactory: (config: ConfigService) => ({
        ollama: { baseUrl: config.get('OLLAMA_URL', 'http://localhost:11434') },
        groq: config.get('GROQ_API_KEY')
          ? { apiKey: config.getOrThrow<string>('GROQ_API_KEY'), baseUrl: config.get('GROQ_BASE_URL') }
          : undefined,
        aliases: {
          inline: {
            'mana/summarize': {
              description: 'Summaries: Groq first, the local model when Groq is down',
              chain: ['groq/llama-3.1-8b-instant', 'ollama/gemma3:4b'],
            },
          },
        },
        probe: { enabled: false },
      }),
    }),
  ],
  controllers: [AssistantController],
  providers: [AssistantService],
})
export class AppModule {}
