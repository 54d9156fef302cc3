import { Directive, Field, ID, ObjectType } from '@nestjs/graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@ObjectType({ description: 'A person with an account; other subgraphs extend it by id' })
@Directive('@key(fields: "id")')
@Entity('users')
export class User {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Visible to the user themself only (see UsersResolver.email). */
  @Column({ type: 'text', unique: true })
  email: string;

  @Column({ name: 'password_hash', type: 'text' })
  passwordHash: string;

  @Field()
  @Column({ name: 'display_name', type: 'text' })
  displayName: string;

  @Field({ description: 'Unique public handle, used for @mentions' })
  @Column({ type: 'text', unique: true })
  username: string;

  /** When the user confirmed `email`; exposed only to them, as `emailVerified`. */
  @Column({ name: 'email_verified_at', type: 'timestamptz', nullable: true })
  emailVerifiedAt: Date | null;

  /** Set by a platform admin's ban: sign-in is refused until it is cleared. */
  @Column({ name: 'banned_at', type: 'timestamptz', nullable: true })
  bannedAt: Date | null;

  /** When two-factor sign-in (TOTP) was turned on; null when it is off. */
  @Column({ name: 'totp_enabled_at', type: 'timestamptz', nullable: true })
  totpEnabledAt: Date | null;

  /** Set when the account's erasure began: it no longer signs in, and is deleted once every service confirms. */
  @Column({ name: 'erasure_requested_at', type: 'timestamptz', nullable: true })
  erasureRequestedAt: Date | null;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
