import { ArgsType, Field, ID, InputType, ObjectType } from '@nestjs/graphql';
import { ArrayMaxSize, ArrayMinSize, IsBoolean, IsEnum, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { ConnectionArgs, ConnectionType, keyed } from '@multipult/graphql';
import { WebhookDelivery, WebhookDeliveryStatus } from './webhook-delivery.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';

export const WebhookDeliveryConnection = ConnectionType(WebhookDelivery);

@InputType()
export class CreateWebhookEndpointInput {
  @Field({ description: 'http(s) URL; private network addresses are refused unless the operator allows them' })
  @IsString()
  @MaxLength(2048, { message: keyed('validation.maxLength') })
  url: string;

  @Field(() => [String], { description: 'Types from webhookEventTypes, or `*` for all' })
  @ArrayMinSize(1, { message: keyed('validation.arrayMinSize') })
  @ArrayMaxSize(50, { message: keyed('validation.arrayMaxSize') })
  @IsString({ each: true })
  @MaxLength(64, { each: true, message: keyed('validation.maxLength') })
  eventTypes: string[];

  @Field({ nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(500, { message: keyed('validation.maxLength') })
  description?: string;
}

@InputType()
export class UpdateWebhookEndpointInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  id: string;

  @Field({ nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(2048, { message: keyed('validation.maxLength') })
  url?: string;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMinSize(1, { message: keyed('validation.arrayMinSize') })
  @ArrayMaxSize(50, { message: keyed('validation.arrayMaxSize') })
  @IsString({ each: true })
  @MaxLength(64, { each: true, message: keyed('validation.maxLength') })
  eventTypes?: string[];

  @Field({ nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(500, { message: keyed('validation.maxLength') })
  description?: string;

  @Field({ nullable: true, description: 'Turning an endpoint back on clears its failure count' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

@InputType()
export class WebhookEndpointIdInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  id: string;
}

@ObjectType()
export class WebhookEndpointPayload {
  @Field(() => WebhookEndpoint)
  endpoint: WebhookEndpoint;
}

@ObjectType()
export class WebhookSecretPayload {
  @Field(() => WebhookEndpoint)
  endpoint: WebhookEndpoint;

  @Field({ description: 'The signing secret; shown only now. Verify X-Multipult-Signature with it' })
  secret: string;
}

@ObjectType()
export class DeleteWebhookEndpointPayload {
  @Field(() => ID)
  deletedEndpointId: string;
}

@ArgsType()
export class WebhookDeliveriesArgs extends ConnectionArgs {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  endpointId: string;

  @Field(() => WebhookDeliveryStatus, { nullable: true })
  @IsOptional()
  @IsEnum(WebhookDeliveryStatus)
  status?: WebhookDeliveryStatus;
}

@InputType()
export class RedeliverWebhookInput {
  @Field(() => ID, { description: 'A delivery to send again, as a new delivery with the same body' })
  @IsUUID('all', { message: 'validation.isUUID' })
  deliveryId: string;
}

@ObjectType()
export class RedeliverWebhookPayload {
  @Field(() => WebhookDelivery)
  delivery: WebhookDelivery;
}
