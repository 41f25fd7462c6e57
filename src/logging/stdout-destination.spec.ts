import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StdoutDestination } from './stdout-destination';

describe('StdoutDestination', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'mana-llm-dest-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A destination writing into a FIFO whose (non-blocking) reader the test holds; errors reported. */
  function overFifo() {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    const broken: string[] = [];
    const destination = new StdoutDestination({
      fd: writer,
      onBroken: (err: Error & { code?: string }) => broken.push(err.code ?? err.message),
    });
    return { reader, writer, destination, broken };
  }

  it('writes lines asynchronously and flushes them on request', async () => {
    const file = join(dir, 'out.log');
    const fd = openSync(file, 'w');
    const destination = new StdoutDestination({ fd });
    destination.write('{"a":1}\n');
    destination.write('{"b":2}\n');
    await new Promise<void>((done) => destination.flush(() => done()));
    expect(readFileSync(file, 'utf8')).toBe('{"a":1}\n{"b":2}\n');
    destination.write('{"c":3}\n');
    destination.flushSync();
    expect(readFileSync(file, 'utf8')).toBe('{"a":1}\n{"b":2}\n{"c":3}\n');
    expect(destination.isBroken).toBe(false);
    closeSync(fd);
  });

  it('stops writing, once, when the reader is gone (EPIPE), and its exit flush returns', async () => {
    const { reader, writer, destination, broken } = overFifo();
    closeSync(reader);
    destination.write('{"lost":1}\n');
    // The asynchronous write fails with EPIPE a moment later.
    for (let waited = 0; broken.length === 0 && waited < 2000; waited += 10) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(broken).toEqual(['EPIPE']);
    expect(destination.isBroken).toBe(true);
    // Neither a later line nor the exit's synchronous flush tries the dead descriptor again.
    destination.write('{"lost":2}\n');
    destination.flushSync();
    await new Promise<void>((done) => destination.flush(() => done()));
    expect(broken).toEqual(['EPIPE']);
    closeSync(writer);
  });

  it('gives up the exit flush at once when the reader of held lines is gone', async () => {
    const { reader, writer, destination, broken } = overFifo();
    // The reader does not read: past the pipe's 64 KiB, lines are held (EAGAIN, tried again later).
    const line = `{"held":"${'x'.repeat(1000)}"}\n`;
    for (let i = 0; i < 200; i++) destination.write(line);
    await new Promise((r) => setTimeout(r, 20));
    expect(broken).toEqual([]);
    closeSync(reader);
    const started = Date.now();
    // sonic-boom 4 (pino.destination) retried this EPIPE forever, 100 ms apart: the exit hung.
    destination.flushSync();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(broken).toEqual(['EPIPE']);
    closeSync(writer);
  });
});
