/** Settings of the HTTP edge (controllers), separate from the core's routing options. */
export interface HttpEdgeOptions {
  bodyLimitBytes: number;
  keepAliveMs: number;
}

export const HTTP_EDGE_OPTIONS = Symbol('mana-llm:http-edge-options');
