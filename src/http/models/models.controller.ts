import { Controller, Get, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidRequestError } from '../../core/errors/request-errors';
import { ModelCatalog } from '../../core/models/model-catalog';
import { ApiKeyGuard } from '../shared/auth.guard';
import { OpenAiExceptionFilter } from '../shared/openai-exception.filter';

const PREFIX = '/v1/models/';

/**
 * `GET /v1/models` and `GET /v1/models/{id}`. Ids carry slashes and colons
 * (`/v1/models/ollama/gemma3:4b`) or arrive `%2F`-encoded (`/v1/models/ollama%2Fgemma3:4b`): the id
 * is everything after `/v1/models/`, percent-decoded once.
 */
@Controller()
@UseFilters(OpenAiExceptionFilter)
@UseGuards(ApiKeyGuard)
export class ModelsController {
  constructor(private readonly catalog: ModelCatalog) {}

  @Get('v1/models')
  async list(@Res() res: ServerResponse): Promise<void> {
    send(res, await this.catalog.list());
  }

  @Get('v1/models/*id')
  async get(@Req() req: IncomingMessage & { path?: string }, @Res() res: ServerResponse): Promise<void> {
    send(res, await this.catalog.get(modelIdOf(req)));
  }
}

/** The raw path after `/v1/models/` (the router would split the id on its slashes), decoded once. */
function modelIdOf(req: IncomingMessage & { path?: string }): string {
  const path = req.path ?? (req.url ?? '').split('?')[0];
  // The first occurrence is the route's own (a host app's global prefix may come before it).
  const at = path.indexOf(PREFIX);
  const raw = at === -1 ? '' : path.slice(at + PREFIX.length);
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new InvalidRequestError('The model id in the path is not valid percent-encoding', 'model');
  }
}

function send(res: ServerResponse, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}
