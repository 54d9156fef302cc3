import { Body, Controller, HttpCode, HttpException, Post } from '@nestjs/common';
import { DELEGATION_PATH, DelegatedToken, DelegationError } from '@multipult/auth';
import { DelegationService } from './delegation.service';

/** `POST /internal/delegated-tokens { assertion }`: for the platform's services only (not routed by the gateway). */
@Controller(DELEGATION_PATH.split('/')[1])
export class DelegationController {
  constructor(private readonly delegation: DelegationService) {}

  @Post(DELEGATION_PATH.split('/')[2])
  @HttpCode(200)
  async grant(@Body() body: unknown): Promise<DelegatedToken> {
    const assertion = typeof body === 'object' && body !== null ? (body as { assertion?: unknown }).assertion : undefined;
    try {
      if (typeof assertion !== 'string' || assertion.length > 4096) throw new DelegationError(401, 'a delegation assertion is required');
      return await this.delegation.grant(assertion);
    } catch (error) {
      if (error instanceof DelegationError) throw new HttpException({ statusCode: error.status, message: error.message }, error.status);
      throw error;
    }
  }
}
