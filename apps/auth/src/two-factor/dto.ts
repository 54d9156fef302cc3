import { Field, InputType, ObjectType } from '@nestjs/graphql';
import { IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';
import { keyed } from '@multipult/graphql';

/** A 6-digit TOTP code, or a backup code (10 characters, dashes and case ignored). */
export const CODE_PATTERN = /^(\d{6}|[A-Za-z0-9-]{10,12})$/;

@ObjectType({ description: 'Scan or type this into an authenticator app, then confirm with a code it shows' })
export class TotpEnrollment {
  @Field({ description: 'Base32 secret, for typing in' })
  secret: string;

  @Field({ description: 'otpauth:// URI with issuer and account' })
  otpauthUri: string;

  @Field({ description: 'The URI as a QR code, a PNG data URL' })
  qrCodeDataUrl: string;
}

@InputType()
export class TwoFactorCodeInput {
  @Field({ description: 'A 6-digit code from the app, or a backup code' })
  @IsString()
  @Matches(CODE_PATTERN, { message: 'validation.invalid' })
  code: string;
}

@ObjectType()
export class ConfirmTotpPayload {
  @Field(() => [String], { description: 'Ten single-use backup codes; shown only now' })
  backupCodes: string[];
}

@ObjectType()
export class DisableTotpPayload {
  @Field()
  disabled: boolean;
}

@InputType()
export class CompleteMfaLoginInput {
  @Field({ description: 'extensions.challengeToken of the MFA_REQUIRED answer to login' })
  @IsString()
  @IsNotEmpty({ message: 'validation.isNotEmpty' })
  @MaxLength(256, { message: keyed('validation.maxLength') })
  challengeToken: string;

  @Field({ description: 'A 6-digit code from the app, or a backup code' })
  @IsString()
  @Matches(CODE_PATTERN, { message: 'validation.invalid' })
  code: string;
}
