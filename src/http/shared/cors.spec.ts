import { corsOriginMatcher } from './cors';

function allows(entries: string[], origin: string | undefined): boolean {
  const matcher = corsOriginMatcher(entries);
  if (typeof matcher === 'boolean') return matcher;
  let result: boolean | undefined;
  matcher(origin, (err, allow) => {
    expect(err).toBeNull();
    result = allow;
  });
  return result === true;
}

describe(corsOriginMatcher.name, () => {
  it('should allow every origin for *', () => {
    expect(corsOriginMatcher(['localhost', '*'])).toBe(true);
  });

  it.each([
    ['http://localhost:5173', true],
    ['https://localhost', true],
    ['http://LOCALHOST:3000', true],
    ['https://app.example.com', true],
    ['https://app.example.com:443', false],
    ['http://app.example.com', false],
    ['https://evil.example', false],
    ['https://localhost.evil.example', false],
    ['null', false],
    [undefined, false],
  ])('should answer %p with %p for CORS_ORIGINS=localhost,https://app.example.com/', (origin, expected) => {
    expect(allows(['localhost', 'https://app.example.com/'], origin)).toBe(expected);
  });
});
