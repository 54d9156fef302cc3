import { Field, ObjectType } from '@nestjs/graphql';
import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A tenant's look on every PDF: name, colours and logo. */
@ObjectType()
@Entity('export_branding')
export class ExportBranding {
  @PrimaryColumn({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field(() => String, { nullable: true })
  @Column({ name: 'company_name', type: 'text', nullable: true })
  companyName: string | null;

  @Field(() => String, { nullable: true, description: '#rrggbb' })
  @Column({ name: 'primary_color', type: 'text', nullable: true })
  primaryColor: string | null;

  @Field(() => String, { nullable: true, description: '#rrggbb' })
  @Column({ name: 'accent_color', type: 'text', nullable: true })
  accentColor: string | null;

  /** PNG or JPEG bytes. */
  @Column({ type: 'bytea', nullable: true })
  logo: Buffer | null;

  @Field()
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
