import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { HealthCheckLogger, LivenessController, RpcAuthGuard, RpcVerifier } from '@parley/app-kit';
import { RpcController } from './api/rpc.controller';
import { StatusController } from './api/status.controller';
import { CommandLogConfig } from './config';
import { ReplicaService } from './replica.service';

@Module({})
export class CommandLogModule {
  /** The configuration was validated before this runs; Nest's ConfigService serves it typed. */
  static register(config: CommandLogConfig): DynamicModule {
    return {
      module: CommandLogModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => config] }),
        TerminusModule.forRoot({ logger: HealthCheckLogger }),
      ],
      controllers: [LivenessController, StatusController, RpcController],
      providers: [
        ReplicaService,
        {
          provide: RpcVerifier,
          useValue: new RpcVerifier(config.PARLEY_RPC_SECRET ?? config.PARLEY_CLUSTER_SECRET),
        },
        RpcAuthGuard,
      ],
    };
  }
}
