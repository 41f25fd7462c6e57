import { ReadinessState } from './readiness-state';

describe(ReadinessState.name, () => {
  it('should be starting and not ready when the application has not bootstrapped', () => {
    const state = new ReadinessState();
    expect(state.phase).toBe('starting');
    expect(state.ready).toBe(false);
  });

  it('should be ready when the application has bootstrapped', () => {
    const state = new ReadinessState();
    state.onApplicationBootstrap();
    expect(state.phase).toBe('ready');
    expect(state.ready).toBe(true);
  });

  it('should stay shutting down when markReady is called after shutdown began', () => {
    const state = new ReadinessState();
    state.markReady();
    state.markShuttingDown();
    state.markReady();
    state.onApplicationBootstrap();
    expect(state.phase).toBe('shutting_down');
    expect(state.ready).toBe(false);
  });

  it('should be shutting down when Nest begins its own shutdown', () => {
    const state = new ReadinessState();
    state.markReady();
    state.beforeApplicationShutdown();
    expect(state.phase).toBe('shutting_down');
  });

  it('should never become ready when shutdown began before bootstrap', () => {
    const state = new ReadinessState();
    state.markShuttingDown();
    state.onApplicationBootstrap();
    expect(state.ready).toBe(false);
  });
});
