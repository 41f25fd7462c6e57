import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { isIP, LookupFunction } from 'node:net';
import { Agent, Dispatcher } from 'undici';
import { asAbortSignal, CancelSignal } from '../../context/cancel-signal';
import { ClientAbortError, InvalidRequestError } from '../../errors/request-errors';
import { ChatCompletionRequest, ContentPart } from '../../openai/chat-completion.types';
import { isHttpImageUrl } from './ollama-request.mapper';
import { ImageInliner } from './ollama.adapter';
import { RefusedAddresses } from './refused-addresses';

export interface ImageFetcherOptions {
  allowPrivate: boolean;
  maxBytes: number;
  timeoutMs: number;
  /** Which resolved addresses are refused; defaults to `RefusedAddresses` (ignored with `allowPrivate`). */
  isRefused?: (address: string) => boolean;
}

const MAX_REDIRECTS = 5;

/**
 * Downloads `http(s)` image URLs for Ollama (which takes only base64): at most `maxBytes` and
 * `timeoutMs`, `image/*` only, redirects followed by hand (each hop re-checked). Unless private
 * targets are allowed, every address is checked after DNS resolution, inside the connection's own
 * lookup, so a rebinding DNS answer cannot slip a private address past the check.
 * Every failure is a 400 whose `param` names the part (`messages[0].content[1].image_url`).
 */
export class ImageFetcher implements ImageInliner {
  private readonly agent: Agent;
  private readonly isRefused: (address: string) => boolean;

  constructor(private readonly options: ImageFetcherOptions) {
    if (options.allowPrivate) this.isRefused = () => false;
    else if (options.isRefused) this.isRefused = options.isRefused;
    else {
      const refused = new RefusedAddresses();
      this.isRefused = (address) => refused.has(address);
    }
    this.agent = new Agent({ connect: { timeout: options.timeoutMs, lookup: this.lookup } });
  }

  /** DNS lookup that refuses blocked addresses: runs inside every connection attempt. */
  private readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const bad = addresses.find((a) => this.isRefused(a.address));
      if (bad) return callback(new RefusedAddressError(bad.address), '', 0);
      if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      else callback(null, addresses[0].address, addresses[0].family);
    });
  };

  async inline(request: ChatCompletionRequest, signal?: CancelSignal): Promise<ChatCompletionRequest> {
    const jobs: Promise<void>[] = [];
    const messages = request.messages.map((message, i) => {
      if (!Array.isArray(message.content)) return message;
      const content = message.content.map((part, j): ContentPart => {
        if (part.type !== 'image_url') return part;
        const url = (part as { image_url: { url: string } }).image_url.url;
        if (!isHttpImageUrl(url)) return part;
        const copy = { type: 'image_url' as const, image_url: { url } };
        jobs.push(
          this.download(url, `messages[${i}].content[${j}].image_url`, signal).then((dataUrl) => {
            copy.image_url.url = dataUrl;
          }),
        );
        return copy;
      });
      return { ...message, content };
    });
    await Promise.all(jobs);
    return { ...request, messages };
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  /** One image as a `data:` URL; follows redirects, checking every hop. */
  async download(url: string, param: string, signal?: CancelSignal): Promise<string> {
    const deadline = AbortSignal.timeout(this.options.timeoutMs);
    const combined = signal ? AbortSignal.any([asAbortSignal(signal), deadline]) : deadline;
    let current = url;
    try {
      for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        const target = this.checkUrl(current, param);
        const response: Dispatcher.ResponseData = await this.agent.request({
          origin: target.origin,
          path: target.pathname + target.search,
          method: 'GET',
          signal: combined,
          headers: { accept: 'image/*' },
        });
        if (response.statusCode >= 300 && response.statusCode < 400 && response.headers.location) {
          discard(response);
          current = new URL(String(response.headers.location), target).toString();
          continue;
        }
        return await this.readImage(response, param);
      }
      throw new InvalidRequestError(`Image URL redirected more than ${MAX_REDIRECTS} times`, param);
    } catch (err) {
      if (err instanceof InvalidRequestError) throw err;
      if (signal?.aborted) throw new ClientAbortError();
      if (deadline.aborted) {
        throw new InvalidRequestError(`Image download timed out after ${this.options.timeoutMs} ms`, param);
      }
      const refused = findRefused(err);
      if (refused) throw refusedError(refused.address, param);
      throw new InvalidRequestError(`Image download failed: ${(err as Error).message}`, param);
    }
  }

  private checkUrl(raw: string, param: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new InvalidRequestError('Image URL is not a valid URL', param);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new InvalidRequestError('Image URL must be a data: or http(s) URL', param);
    }
    if (url.username || url.password) {
      throw new InvalidRequestError('Image URL must not carry credentials', param);
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // An IP literal never goes through DNS lookup: check it here.
    if (isIP(host) && this.isRefused(host)) throw refusedError(host, param);
    return url;
  }

  private async readImage(response: Dispatcher.ResponseData, param: string): Promise<string> {
    if (response.statusCode >= 300) {
      discard(response);
      throw new InvalidRequestError(`Image download failed with HTTP ${response.statusCode}`, param);
    }
    const type = String(response.headers['content-type'] ?? '')
      .split(';')[0]
      .trim()
      .toLowerCase();
    if (!type.startsWith('image/')) {
      discard(response);
      throw new InvalidRequestError(
        `Image URL did not return an image (content-type '${type || 'none'}')`,
        param,
      );
    }
    const tooLarge = () =>
      new InvalidRequestError(`Image is larger than the limit of ${this.options.maxBytes} bytes`, param);
    if (Number(response.headers['content-length']) > this.options.maxBytes) {
      discard(response);
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > this.options.maxBytes) {
        discard(response);
        throw tooLarge();
      }
      chunks.push(chunk);
    }
    return `data:${type};base64,${Buffer.concat(chunks, size).toString('base64')}`;
  }
}

/**
 * Drops a body we will not read. `destroy()` without a listener would surface undici's
 * RequestAbortedError as an unhandled 'error' event and take the process down.
 */
function discard(response: Dispatcher.ResponseData): void {
  response.body.on('error', () => undefined);
  response.body.destroy();
}

function refusedError(address: string, param: string): InvalidRequestError {
  return new InvalidRequestError(
    `Image URL resolves to a refused address (${address}): loopback, private and link-local ` +
      'targets are not fetched (IMAGE_URL_ALLOW_PRIVATE)',
    param,
  );
}

class RefusedAddressError extends Error {
  readonly code = 'MANA_REFUSED_ADDRESS';
  constructor(readonly address: string) {
    super(`refused address ${address}`);
  }
}

function findRefused(err: unknown): RefusedAddressError | undefined {
  for (
    let e = err as { cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    if (e instanceof RefusedAddressError) return e;
  }
  return undefined;
}
