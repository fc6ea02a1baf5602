import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AsyncRequests } from '../async/async-requests';
import { Roles } from '../auth/api-keys';
import { REQUEST_WAITING, openApiSchema } from '@parley/decision-api-contract';
import { Problem, writeAnswer } from './problem';

/** The status of a strong write accepted with `Prefer: respond-async` (accept now, decide later). */
@ApiTags('strong')
@ApiBearerAuth()
@Controller('v1')
export class RequestsController {
  constructor(private readonly requests: AsyncRequests) {}

  @ApiOperation({
    summary: 'the status of a request accepted with Prefer: respond-async',
    description:
      'While it waits: 202 {requestId, state}, state "pending" (being proposed) or "buffered" ' +
      '(no leader or quorum reachable: kept in the outbox, proposed when one is back). Once ' +
      'decided: exactly the status, headers and body the synchronous call would have given ' +
      '(a reservation that lost the race for stock is 200 status "rejected"). 404 for an id ' +
      'this decision-api process did not accept, or whose answer it no longer keeps ' +
      '(PARLEY_OUTBOX_DECIDED_MAX): ask the process that answered the 202.',
  })
  @ApiResponse({
    status: 202,
    description: 'not decided yet',
    content: { 'application/json': { schema: openApiSchema(REQUEST_WAITING) } },
  })
  @ApiResponse({ status: 404, description: 'unknown request id' })
  @Get('requests/:requestId')
  @Roles('reader', 'agent', 'operator')
  status(@Param('requestId') requestId: string, @Res() response: Response): void {
    const answer = this.requests.status(requestId);
    if (!answer) throw new Problem(404, 'Not Found', `no request ${requestId} here`);
    writeAnswer(response, answer);
  }
}
