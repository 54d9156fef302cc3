import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Cron } from 'croner';
import { DataSource } from 'typeorm';
import { AuthPrincipal } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { AppError, BadUserInputError, ErrorCode, ForbiddenError, NotFoundError } from '@multipult/graphql';
import { JobQueue } from '@multipult/jobs';
import type { ExportConfig } from '../config';
import { Export } from '../exports/export.entity';
import { ExportsService, isExportAdmin } from '../exports/exports.service';
import { CreateExportScheduleInput } from './dto';
import { ExportSchedule } from './export-schedule.entity';

const SCHEDULE_TICK_QUEUE = 'export.schedules';
const DUE_BATCH = 50;

/**
 * Recurring exports per tenant: a recurring job claims due schedules (SKIP LOCKED, so replicas
 * share them), moves each to its next cron time, then requests the export as the schedule's
 * owner with their read rights at that moment. An owner who left the tenant disables it.
 */
@Injectable()
export class SchedulesService implements OnModuleInit {
  private readonly logger = new Logger(SchedulesService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: ExportConfig,
    private readonly jobs: JobQueue,
    private readonly exports: ExportsService,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.jobs.defineRecurring({ name: SCHEDULE_TICK_QUEUE, everySeconds: this.config.EXPORT_SCHEDULE_CHECK_SECONDS, handler: () => this.runDue() });
  }

  async create(principal: AuthPrincipal, tenantId: string, input: CreateExportScheduleInput): Promise<ExportSchedule> {
    const timeZone = input.timeZone ?? 'UTC';
    const nextRunAt = nextRun(input.cron, timeZone);
    const given = [input.selection.documentIds, input.selection.collectionId, input.selection.search].filter((part) => part !== undefined && part !== null);
    if (given.length !== 1) throw BadUserInputError.field('input.selection', 'errors.export_selection_one');
    const repository = this.dataSource.getRepository(ExportSchedule);
    return repository.save(
      repository.create({
        tenantId,
        ownerId: principal.userId,
        title: input.title.trim(),
        cron: input.cron.trim(),
        timeZone,
        format: input.format,
        selection: input.selection.documentIds
          ? { documentIds: input.selection.documentIds }
          : input.selection.collectionId
            ? { collectionId: input.selection.collectionId }
            : { search: { query: input.selection.search?.query as string, languages: input.selection.search?.languages } },
        templateId: input.templateId ?? null,
        enabled: true,
        nextRunAt,
        lastRunAt: null,
        lastExportId: null,
        lastError: null,
      }),
    );
  }

  list(principal: AuthPrincipal, tenantId: string): Promise<ExportSchedule[]> {
    return this.dataSource
      .getRepository(ExportSchedule)
      .find({ where: isExportAdmin(principal) ? { tenantId } : { tenantId, ownerId: principal.userId }, order: { createdAt: 'DESC' } });
  }

  async setEnabled(principal: AuthPrincipal, tenantId: string, id: string, enabled: boolean): Promise<ExportSchedule> {
    const schedule = await this.visible(principal, tenantId, id);
    schedule.enabled = enabled;
    schedule.nextRunAt = enabled ? nextRun(schedule.cron, schedule.timeZone) : null;
    return this.dataSource.getRepository(ExportSchedule).save(schedule);
  }

  async delete(principal: AuthPrincipal, tenantId: string, id: string): Promise<string> {
    const schedule = await this.visible(principal, tenantId, id);
    await this.dataSource.getRepository(ExportSchedule).delete({ id: schedule.id });
    return schedule.id;
  }

  /** Runs a schedule once, now, without moving its next time. */
  async runNow(principal: AuthPrincipal, tenantId: string, id: string): Promise<Export> {
    const schedule = await this.visible(principal, tenantId, id);
    const created = await this.start(schedule);
    if (!created) throw new AppError(ErrorCode.CONFLICT, 'errors.export_schedule_failed', { reason: schedule.lastError ?? '' });
    return created;
  }

  async runDue(): Promise<number> {
    const due = await this.dataSource.transaction(async (manager) => {
      const rows: ExportSchedule[] = await manager
        .getRepository(ExportSchedule)
        .createQueryBuilder('schedule')
        .where('schedule.enabled AND schedule.next_run_at <= now()')
        .orderBy('schedule.next_run_at')
        .limit(DUE_BATCH)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      for (const row of rows) {
        row.nextRunAt = nextRun(row.cron, row.timeZone);
        await manager.update(ExportSchedule, { id: row.id }, { nextRunAt: row.nextRunAt, lastRunAt: new Date() });
      }
      return rows;
    });
    for (const schedule of due) await this.start(schedule);
    return due.length;
  }

  private async start(schedule: ExportSchedule): Promise<Export | null> {
    const repository = this.dataSource.getRepository(ExportSchedule);
    try {
      const created = await this.exports.request(
        { tenantId: schedule.tenantId, userId: schedule.ownerId, scheduleId: schedule.id },
        { title: `${schedule.title} · ${new Date().toISOString().slice(0, 10)}`, format: schedule.format, selection: schedule.selection, templateId: schedule.templateId ?? undefined },
      );
      await repository.update({ id: schedule.id }, { lastExportId: created.id, lastError: null });
      return created;
    } catch (error) {
      const ownerGone = error instanceof ForbiddenError;
      await repository.update({ id: schedule.id }, { lastError: (error as Error).message, ...(ownerGone ? { enabled: false, nextRunAt: null } : {}) });
      this.logger.warn({ scheduleId: schedule.id, reason: (error as Error).message, disabled: ownerGone }, 'scheduled export not started');
      return null;
    }
  }

  private async visible(principal: AuthPrincipal, tenantId: string, id: string): Promise<ExportSchedule> {
    const schedule = await this.dataSource.getRepository(ExportSchedule).findOneBy({ id, tenantId });
    if (!schedule || (schedule.ownerId !== principal.userId && !isExportAdmin(principal))) throw new NotFoundError('ExportSchedule');
    return schedule;
  }
}

/** The cron's next time after now, in its zone; BAD_USER_INPUT for an invalid cron or zone. */
function nextRun(cron: string, timeZone: string): Date {
  try {
    if (cron.trim().split(/\s+/).length !== 5) throw new Error('five fields are required: minute hour day month weekday');
    const next = new Cron(cron.trim(), { timezone: timeZone, paused: true }).nextRun();
    if (!next) throw new Error('never runs');
    return next;
  } catch (error) {
    throw BadUserInputError.field('input.cron', 'errors.export_schedule_invalid', { reason: (error as Error).message });
  }
}
