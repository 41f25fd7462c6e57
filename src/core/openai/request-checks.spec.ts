import { InvalidRequestError } from '../errors/request-errors';
import { checkModelId } from './request-checks';

describe(checkModelId.name, () => {
  it.each(['ollama/caf\u00e9', 'groq/\u202emodel', 'ollama/\ud83d\ude00', 'x\u0085'])(
    'should refuse the non-ASCII model id %j with a 400 naming model',
    (id) => {
      expect(() => checkModelId(id)).toThrow(InvalidRequestError);
    },
  );

  it.each(['ollama/gemma3:4b', 'hf.co/org/model:Q4_K_M', 'openrouter/meta-llama/llama-3.1-8b-instruct'])(
    'should accept the model id %s',
    (id) => {
      expect(checkModelId(id)).toBe(id);
    },
  );
});
