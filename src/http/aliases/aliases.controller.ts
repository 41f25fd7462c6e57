import { Controller, Get, Res, UseFilters, UseGuards } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { AliasOverview } from '../../core/routing/alias-overview';
import { ApiKeyGuard } from '../shared/auth.guard';
import { OpenAiExceptionFilter } from '../shared/openai-exception.filter';
import { sendJson } from '../health/send-json';

/**
 * `GET /v1/aliases`: `{object:"list", data:[{id, description, chain, resolves_to}]}`; behind the
 * gateway key when `MANA_LLM_API_KEYS` is set (SPEC §10).
 */
@Controller()
@UseFilters(OpenAiExceptionFilter)
@UseGuards(ApiKeyGuard)
export class AliasesController {
  constructor(private readonly aliases: AliasOverview) {}

  @Get('v1/aliases')
  list(@Res() res: ServerResponse): void {
    sendJson(res, 200, { object: 'list', data: this.aliases.list() });
  }
}
