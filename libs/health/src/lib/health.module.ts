import { Controller, DynamicModule, Get, Inject, Module, Type } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { ReadinessProbe } from './readiness-probes';

const READINESS_PROBES = Symbol('READINESS_PROBES');

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    @Inject(READINESS_PROBES) private readonly probes: ReadinessProbe[],
  ) {}

  /** The process is up and its event loop answers; never depends on other systems. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Every dependency answers within its timeout and the schema is migrated; 503 otherwise. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check(this.probes.map((probe) => () => probe.check()));
  }
}

export interface HealthModuleOptions {
  probes: Type<ReadinessProbe>[];
  /** Keeps answering (readiness 503) for this long after SIGTERM so load balancers stop routing first. */
  gracefulShutdownTimeoutMs?: number;
}

@Module({})
export class HealthModule {
  static forRoot(options: HealthModuleOptions): DynamicModule {
    return {
      module: HealthModule,
      imports: [
        TerminusModule.forRoot({
          gracefulShutdownTimeoutMs: options.gracefulShutdownTimeoutMs ?? 0,
          errorLogStyle: 'json',
        }),
      ],
      controllers: [HealthController],
      providers: [
        ...options.probes,
        {
          provide: READINESS_PROBES,
          inject: options.probes,
          useFactory: (...probes: ReadinessProbe[]) => probes,
        },
      ],
    };
  }
}
