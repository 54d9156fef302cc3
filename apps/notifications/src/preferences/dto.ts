import { Field, InputType, Int, ObjectType } from '@nestjs/graphql';
import { IsBoolean, IsEnum, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { SUPPORTED_LOCALES, keyed } from '@multipult/graphql';
import { NotificationChannel } from '../catalog/notification-kind';

@ObjectType()
export class NotificationPreference {
  @Field()
  type: string;

  @Field(() => NotificationChannel)
  channel: NotificationChannel;

  @Field()
  enabled: boolean;

  @Field({ description: 'Security and account messages: always on' })
  critical: boolean;
}

@ObjectType()
export class NotificationSettings {
  @Field({ description: 'Language of emails and of live notifications when the client names none' })
  locale: string;

  @Field({ description: 'Non-urgent email is batched into one message a day' })
  emailDigest: boolean;

  @Field(() => Int, { description: 'Local hour (0–23) the digest is sent at' })
  digestHour: number;

  @Field({ description: 'IANA time zone of digestHour, e.g. Europe/Moscow' })
  timeZone: string;

  @Field(() => [NotificationPreference])
  preferences: NotificationPreference[];
}

@InputType()
export class UpdateNotificationSettingsInput {
  @Field({ nullable: true })
  @IsOptional()
  @IsIn(SUPPORTED_LOCALES, { message: keyed('validation.locale') })
  locale?: string;

  @Field({ nullable: true })
  @IsOptional()
  @IsBoolean()
  emailDigest?: boolean;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(0, { message: keyed('validation.min') })
  @Max(23, { message: keyed('validation.max') })
  digestHour?: number;

  @Field({ nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(64, { message: keyed('validation.maxLength') })
  timeZone?: string;
}

@InputType()
export class SetNotificationPreferenceInput {
  @Field()
  @IsString()
  @MaxLength(64, { message: keyed('validation.maxLength') })
  type: string;

  @Field(() => NotificationChannel)
  @IsEnum(NotificationChannel)
  channel: NotificationChannel;

  @Field()
  @IsBoolean()
  enabled: boolean;
}

@ObjectType()
export class NotificationSettingsPayload {
  @Field(() => NotificationSettings)
  settings: NotificationSettings;
}
