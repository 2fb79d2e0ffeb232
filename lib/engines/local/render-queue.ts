import type { Run } from "@/lib/engines/local/render-run";

/** The line of renders: at most `maxConcurrent` run at once, the others wait in "starting". */
export class RenderQueue {
  private readonly waiting: Run[] = [];
  private active = 0;

  constructor(
    private readonly maxConcurrent: number,
    private readonly execute: (run: Run) => Promise<void>,
  ) {}

  add(run: Run): void {
    this.waiting.push(run);
    // Begin after the caller has the reference.
    setImmediate(() => this.pump());
  }

  /** Takes a run that has not started out of the line. */
  remove(run: Run): void {
    const i = this.waiting.indexOf(run);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  private pump(): void {
    while (this.active < this.maxConcurrent && this.waiting.length > 0) {
      const run = this.waiting.shift();
      if (!run) break;
      this.active++;
      void this.execute(run)
        .catch(() => undefined)
        .finally(() => {
          this.active--;
          this.pump();
        });
    }
  }
}
