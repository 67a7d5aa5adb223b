/** A pino destination that keeps every line in memory. */
export class MemoryStream {
  readonly raw: string[] = [];
  write(line: string): void {
    this.raw.push(line);
  }
  /** Every line, parsed. */
  get lines(): Record<string, unknown>[] {
    return this.raw.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
  get text(): string {
    return this.raw.join('');
  }
  clear(): void {
    this.raw.length = 0;
  }
}

/** pino's numeric levels. */
export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;
