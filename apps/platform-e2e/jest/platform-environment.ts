// The test environment of the e2e files: jest's node environment plus the platform pool. jest loads
// this module once per worker and keeps it (unlike test modules, which it loads afresh per file),
// so the pool and the platforms' processes live across files; each file gets `usePlatform`.
import './workspace-aliases.cjs';
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import { TestEnvironment } from 'jest-environment-node';
import { exposePlatformPool, platformPool } from '@multipult/testing';
import { PLATFORM_CONFIGURATIONS } from '../src/support/platforms';

// One platform alive at a time: four services and a gateway are what a 2-core machine can spare.
const MAX_PLATFORMS_ALIVE = 1;

export default class PlatformEnvironment extends TestEnvironment {
  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    exposePlatformPool(this.global, platformPool(PLATFORM_CONFIGURATIONS, MAX_PLATFORMS_ALIVE));
  }
}
