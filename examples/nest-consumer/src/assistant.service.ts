import { Injectable } from '@nestjs/common';
import { firstValueFrom, take, toArray } from 'rxjs';
import { ManaLlmClient } from 'mana-llm';

/** Product code: asks mana-llm in-process, never over HTTP. */
@Injectable()
export class AssistantService {
  constructor(private readonly llm: ManaLlmClient) {}

  async summarize(text: string): Promise<{ summary: string; model: string }> {
    const answer = await this.llm.chat(
      { model: 'mana/summarize', messages: [{ role: 'user', content: `Summarize: ${text}` }] },
      { app: 'nest-consumer' },
    );
    return { summary: answer.choices[0].message.content ?? '', model: answer.model };
  }

  /** Reads only the first `n` chunks, then unsubscribes: mana-llm aborts the upstream request. */
  async firstChunks(prompt: string, n: number): Promise<string[]> {
    const chunks = await firstValueFrom(
      this.llm
        .chatStream({ model: 'ollama/gemma3:4b', messages: [{ role: 'user', content: prompt }] })
        .pipe(take(n), toArray()),
    );
    return chunks.map((c) => c.choices[0]?.delta.content ?? '');
  }

  async embed(texts: string[]): Promise<number[][]> {
    const result = await this.llm.embed({ model: 'ollama/nomic-embed-text', input: texts });
    return result.data.map((d) => d.embedding as number[]);
  }
}
