import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { HealthCheckLogger, LivenessController } from '@parley/app-kit';
import { GossipConfig } from './config';
import { GossipService } from './gossip.service';
import { MembersController } from './members.controller';

@Module({})
export class GossipModule {
  /** The configuration was validated before this runs; Nest's ConfigService serves it typed. */
  static register(config: GossipConfig): DynamicModule {
    return {
      module: GossipModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => config] }),
        TerminusModule.forRoot({ logger: HealthCheckLogger }),
      ],
      controllers: [LivenessController, MembersController],
      providers: [GossipService],
    };
  }
}
