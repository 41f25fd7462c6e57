import { OTHER_LABEL } from './metric-definitions';

/**
 * The values one label may take: the first `max` distinct values admitted, then `other`. Keeps a
 * label whose values come from outside (a calling app's name, upstream model ids) from growing the
 * number of series without bound.
 */
export class BoundedLabelValues {
  private readonly admitted = new Set<string>();

  constructor(private readonly max: number) {}

  /** `value` if it is admitted (now or before), else `other`. */
  admit(value: string): string {
    if (this.admitted.has(value)) return value;
    if (this.admitted.size >= this.max) return OTHER_LABEL;
    this.admitted.add(value);
    return value;
  }

  has(value: string): boolean {
    return this.admitted.has(value);
  }
}
