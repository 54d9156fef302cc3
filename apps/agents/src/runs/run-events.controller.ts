import { Controller, Get, Inject, Logger, Param, ParseUUIDPipe, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ACCESS_TOKEN_VERIFIER, AccessTokenVerifier, AuthenticatedRequest, authenticate, hasPermission } from '@multipult/auth';
import { AppError, BadUserInputError, ForbiddenError, UnauthenticatedError, httpErrorResponse } from '@multipult/graphql';
import { RunEvents } from './run-events';
import { RunsService } from './runs.service';

/** A line now and then keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

/**
 * `GET /agents/runs/:id/events`: the run's events as NDJSON (one JSON object a line), from after
 * `last_event_id` (query) or `Last-Event-ID` (header), live until the run's final event. Reached
 * through the gateway's /streams/agents/…; the caller's token is verified here like on /graphql.
 */
@Controller('agents/runs')
export class RunEventsController {
  private readonly logger = new Logger(RunEventsController.name);

  constructor(
    @Inject(ACCESS_TOKEN_VERIFIER) private readonly verifier: AccessTokenVerifier,
    private readonly runs: RunsService,
    private readonly events: RunEvents,
  ) {}

  @Get(':id/events')
  async stream(@Param('id', new ParseUUIDPipe()) runId: string, @Query('last_event_id') lastEventQuery: string | undefined, @Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      const principal = await authenticate(req as AuthenticatedRequest, this.verifier);
      if (!principal) throw new UnauthenticatedError();
      if (!principal.tenantId || !hasPermission(principal.permissions, 'agents:use')) throw new ForbiddenError('errors.missing_permission', { permission: 'agents:use' });
      const raw = lastEventQuery ?? req.header('last-event-id') ?? '0';
      if (!/^\d{1,15}$/.test(raw)) throw BadUserInputError.field('last_event_id', 'validation.invalid');
      await this.runs.visible({ tenantId: principal.tenantId, principal }, runId);
      const feed = await this.events.follow(runId, Number(raw));
      res.status(200).setHeader('Content-Type', 'application/x-ndjson; charset=utf-8').setHeader('Cache-Control', 'no-store').setHeader('X-Accel-Buffering', 'no');
      res.flushHeaders();
      const heartbeat = setInterval(() => res.write(`${JSON.stringify({ type: 'heartbeat', at: new Date().toISOString() })}\n`), HEARTBEAT_MS);
      res.on('close', () => {
        clearInterval(heartbeat);
        void feed.return();
      });
      for await (const event of feed) {
        if (!res.write(`${JSON.stringify({ id: event.seq, runId: event.runId, type: event.type, taskId: event.taskId, payload: event.payload, createdAt: event.createdAt })}\n`)) {
          await new Promise((resolve) => res.once('drain', resolve));
        }
      }
      clearInterval(heartbeat);
      res.end();
    } catch (error) {
      if (res.headersSent) return void res.end();
      if (!(error instanceof AppError)) throw error;
      const { status, body } = httpErrorResponse(error);
      this.logger.warn({ runId, code: error.code }, 'run event stream refused');
      res.status(status).json(body);
    }
  }
}
