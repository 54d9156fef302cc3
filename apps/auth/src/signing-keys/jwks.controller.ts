import { Controller, Get, Header } from '@nestjs/common';
import type { JSONWebKeySet } from 'jose';
import { SigningKeyService } from './signing-key.service';

@Controller('.well-known')
export class JwksController {
  constructor(private readonly signingKeys: SigningKeyService) {}

  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=60')
  jwks(): JSONWebKeySet {
    return this.signingKeys.publicKeySet();
  }
}
