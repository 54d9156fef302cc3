import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** This service's copy of a user: where and in which language to reach them, and their digest choice. */
@Entity('recipients')
export class Recipient {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ type: 'text' })
  email: string;

  @Column({ name: 'display_name', type: 'text' })
  displayName: string;

  @Column({ type: 'text', nullable: true })
  username: string | null;

  @Column({ type: 'text' })
  locale: string;

  @Column({ name: 'email_digest', type: 'boolean' })
  emailDigest: boolean;

  @Column({ name: 'digest_hour', type: 'smallint' })
  digestHour: number;

  @Column({ name: 'time_zone', type: 'text' })
  timeZone: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
