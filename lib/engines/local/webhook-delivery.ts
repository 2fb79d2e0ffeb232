import type { Run } from "@/lib/engines/local/render-run";
import { newWebhookId, webhookSigner, type WebhookSigner } from "@/lib/webhooks/sign";

/**
 * Signed delivery of a render's prediction to its webhook URL, as Replicate does it: the start
 * event, progress at most every `progressIntervalMs`, and the completed event retried with
 * backoff. A run's deliveries go out one after another, in order.
 */

export type WebhookDeliveryOptions = {
  /** Standard Webhooks secret (`whsec_…`) used to sign deliveries. */
  secret: string;
  fetch: typeof fetch;
  /** Delays before each retry of the completed event. */
  retryDelaysMs: number[];
  /** Minimum gap between progress deliveries. */
  progressIntervalMs: number;
  /** Timeout of one webhook request. */
  deliveryTimeoutMs: number;
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class WebhookDelivery {
  private readonly sign: WebhookSigner;
  private readonly fetchImpl: typeof fetch;
  private readonly retryDelaysMs: number[];
  private readonly progressIntervalMs: number;
  private readonly deliveryTimeoutMs: number;

  constructor(options: WebhookDeliveryOptions) {
    this.sign = webhookSigner(options.secret);
    this.fetchImpl = options.fetch;
    this.retryDelaysMs = options.retryDelaysMs;
    this.progressIntervalMs = options.progressIntervalMs;
    this.deliveryTimeoutMs = options.deliveryTimeoutMs;
  }

  /** Queues a progress delivery, no sooner than the interval after the last one. */
  scheduleProgress(run: Run): void {
    if (!run.webhookUrl || run.state !== "running" || run.progressQueued || run.progressTimer) return;
    const wait = run.lastProgressSentAt + this.progressIntervalMs - Date.now();
    if (wait > 0) {
      run.progressTimer = setTimeout(() => {
        run.progressTimer = null;
        this.scheduleProgress(run);
      }, wait);
      return;
    }
    run.progressQueued = true;
    run.chain = run.chain.then(async () => {
      run.progressQueued = false;
      if (run.state !== "running") return;
      run.lastProgressSentAt = Date.now();
      await this.deliver(run, JSON.stringify(run.prediction), false);
    });
  }

  /** Queues a delivery of the prediction as it is now (the start event, or the completed one). */
  send(run: Run, completed: boolean): void {
    if (!run.webhookUrl) return;
    const body = JSON.stringify(run.prediction);
    if (!completed) run.lastProgressSentAt = Date.now();
    run.chain = run.chain.then(() => this.deliver(run, body, completed));
  }

  private async deliver(run: Run, body: string, retry: boolean): Promise<void> {
    const url = run.webhookUrl;
    if (!url) return;
    const msgId = newWebhookId();
    const attempts = retry ? 1 + this.retryDelaysMs.length : 1;
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await sleep(this.retryDelaysMs[i - 1] ?? 1000);
      try {
        const res = await this.fetchImpl(url, {
          method: "POST",
          // Signed again on each try: the timestamp is checked against a 5-minute tolerance.
          headers: { ...this.sign(body, msgId), "user-agent": "prompt2video-local-engine" },
          body,
          signal: AbortSignal.timeout(this.deliveryTimeoutMs),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return;
      } catch {
        // network failure: retry (completed events only)
      }
    }
  }
}
