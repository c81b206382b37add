import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';

/** The relay's inbound counters, named once. */
@Injectable()
export class RelayMetrics {
  readonly events: Counter<string>;
  readonly dropped: Counter<string>;
  readonly rejected: Counter<string>;
  readonly deliveries: Counter<string>;
  readonly deliveryDuration: Histogram<string>;

  constructor(metrics: MetricsService) {
    this.events = metrics.counter('relay_webhook_events_total', 'Facebook webhook events by outcome (stored, duplicate, ignored)', ['outcome']);
    this.dropped = metrics.counter('relay_webhook_events_dropped_total', 'Webhook events dropped: no active integration for the page, or wall posts off', ['reason']);
    this.rejected = metrics.counter('relay_webhook_rejected_total', 'Webhook POSTs rejected (bad signature, malformed body)', ['reason']);
    this.deliveries = metrics.counter('relay_deliveries_total', 'Delivery attempts to contact centers by outcome', ['outcome']);
    this.deliveryDuration = metrics.histogram('relay_delivery_duration_seconds', 'Time of one notify to a contact center', [], [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
  }
}
