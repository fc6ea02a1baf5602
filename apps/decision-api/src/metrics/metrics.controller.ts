import { Controller, Get, Header } from '@nestjs/common';
import { Metrics } from './metrics';

/** `/metrics` in the Prometheus text format (unauthenticated, like a health probe). */
@Controller()
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
