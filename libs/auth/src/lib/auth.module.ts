import {
  DynamicModule,
  Global,
  Inject,
  Injectable,
  MiddlewareConsumer,
  Module,
  ModuleMetadata,
  NestMiddleware,
  NestModule,
} from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { APP_GUARD } from '@nestjs/core';
import type { JWTVerifyGetKey } from 'jose';
import { APP_CONFIG } from '@multipult/config';
import { FAST_STORE, FastStore } from '@multipult/redis';
import { AccessTokenVerifier } from './access-token-verifier';
import { ACCESS_TOKEN_VERIFIER, AuthGuard, startAuthentication } from './auth.guard';
import { AuthenticatedRequest } from './decorators';

export const ACCESS_TOKEN_KEYS = Symbol('ACCESS_TOKEN_KEYS');

interface TokenConfig {
  AUTH_JWKS_URL?: string;
  JWT_ISSUER: string;
  JWT_AUDIENCE: string;
}

export interface AuthModuleOptions {
  /**
   * Where verification keys come from. By default the auth service's JWKS (AUTH_JWKS_URL); the
   * auth service itself passes its local key store.
   */
  keys?: { imports?: ModuleMetadata['imports']; inject: unknown[]; useFactory: (...args: never[]) => JWTVerifyGetKey };
}

/** startAuthentication as Express middleware, for GraphQL requests that pass through Express. */
@Injectable()
export class AuthenticationMiddleware implements NestMiddleware {
  constructor(@Inject(ACCESS_TOKEN_VERIFIER) private readonly verifier: AccessTokenVerifier) {}

  use(req: Request, _res: Response, next: NextFunction): void {
    startAuthentication(req as AuthenticatedRequest, this.verifier);
    next();
  }
}

/** Token verification, the authentication middleware and the global resolver guard; every service imports this. */
@Global()
@Module({})
export class AuthModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(AuthenticationMiddleware).forRoutes('graphql');
  }

  static forRoot(options: AuthModuleOptions = {}): DynamicModule {
    const keysProvider = options.keys
      ? { provide: ACCESS_TOKEN_KEYS, inject: options.keys.inject as never[], useFactory: options.keys.useFactory }
      : {
          provide: ACCESS_TOKEN_KEYS,
          inject: [APP_CONFIG],
          useFactory: (config: TokenConfig) => {
            if (!config.AUTH_JWKS_URL) throw new Error('AUTH_JWKS_URL is required to verify access tokens');
            return AccessTokenVerifier.remoteKeys(config.AUTH_JWKS_URL);
          },
        };
    return {
      module: AuthModule,
      imports: options.keys?.imports ?? [],
      providers: [
        keysProvider,
        {
          provide: ACCESS_TOKEN_VERIFIER,
          inject: [APP_CONFIG, ACCESS_TOKEN_KEYS, FAST_STORE],
          useFactory: (config: TokenConfig, keys: JWTVerifyGetKey, store: FastStore) =>
            new AccessTokenVerifier({ keys, store, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE }),
        },
        { provide: APP_GUARD, useClass: AuthGuard },
        AuthenticationMiddleware,
      ],
      exports: [ACCESS_TOKEN_VERIFIER],
    };
  }
}
