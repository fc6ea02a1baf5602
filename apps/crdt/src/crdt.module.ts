import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { HealthCheckLogger, LivenessController } from '@parley/app-kit';
import { CrdtConfig } from './config';
import { CrdtController } from './crdt.controller';
import { CrdtService } from './crdt.service';

@Module({})
export class CrdtModule {
  /** The configuration was validated before this runs; Nest's ConfigService serves it typed. */
  static register(config: CrdtConfig): DynamicModule {
    return {
      module: CrdtModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => config] }),
        TerminusModule.forRoot({ logger: HealthCheckLogger }),
      ],
      controllers: [LivenessController, CrdtController],
      providers: [CrdtService],
    };
  }
}
