import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser, RequirePermissions } from '@multipult/auth';
import { Export } from '../exports/export.entity';
import { CreateExportScheduleInput, ExportScheduleIdArgs, SetExportScheduleEnabledInput } from './dto';
import { ExportSchedule } from './export-schedule.entity';
import { SchedulesService } from './schedules.service';

@Resolver(() => ExportSchedule)
export class SchedulesResolver {
  constructor(private readonly schedules: SchedulesService) {}

  @RequirePermissions('export:create')
  @Query(() => [ExportSchedule], { description: "The caller's export schedules (every member's for export administrators)" })
  exportSchedules(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal): Promise<ExportSchedule[]> {
    return this.schedules.list(principal, tenantId);
  }

  @RequirePermissions('export:create')
  @Mutation(() => ExportSchedule, { description: 'A recurring export, run as the caller with their read rights at each run' })
  createExportSchedule(
    @CurrentTenant() tenantId: string,
    @CurrentUser() principal: AuthPrincipal,
    @Args('input') input: CreateExportScheduleInput,
  ): Promise<ExportSchedule> {
    return this.schedules.create(principal, tenantId, input);
  }

  @RequirePermissions('export:create')
  @Mutation(() => ExportSchedule)
  setExportScheduleEnabled(
    @CurrentTenant() tenantId: string,
    @CurrentUser() principal: AuthPrincipal,
    @Args('input') input: SetExportScheduleEnabledInput,
  ): Promise<ExportSchedule> {
    return this.schedules.setEnabled(principal, tenantId, input.id, input.enabled);
  }

  @RequirePermissions('export:create')
  @Mutation(() => ID, { description: 'The deleted schedule id; its past exports stay' })
  deleteExportSchedule(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args() { id }: ExportScheduleIdArgs): Promise<string> {
    return this.schedules.delete(principal, tenantId, id);
  }

  @RequirePermissions('export:create')
  @Mutation(() => Export, { description: 'Runs the schedule once now; its next time is unchanged' })
  runExportScheduleNow(@CurrentTenant() tenantId: string, @CurrentUser() principal: AuthPrincipal, @Args() { id }: ExportScheduleIdArgs): Promise<Export> {
    return this.schedules.runNow(principal, tenantId, id);
  }
}
