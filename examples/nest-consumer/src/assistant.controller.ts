import { Body, Controller, Post } from '@nestjs/common';
import { AssistantService } from './assistant.service';

@Controller()
export class AssistantController {
  constructor(private readonly assistant: AssistantService) {}

  @Post('summarize')
  summarize(@Body() body: { text: string }) {
    return this.assistant.summarize(body.text);
  }

  @Post('first-chunks')
  async firstChunks(@Body() body: { prompt: string; n: number }) {
    return { chunks: await this.assistant.firstChunks(body.prompt, body.n) };
  }

  @Post('embed')
  async embed(@Body() body: { texts: string[] }) {
    return { vectors: await this.assistant.embed(body.texts) };
  }
}
