import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';

/** Liveness: the process is up and its event loop answers. Readiness is each app's own. */
@Controller('health')
export class LivenessController {
  constructor(private readonly health: HealthCheckService) {}

  @Get('live')
  // Without swagger's annotations: terminus requires @nestjs/swagger to add them, ~10 MiB in
  // every internal app that serves no API docs (decision-api's docs list the route anyway).
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  live() {
    return this.health.check([]);
  }
}
