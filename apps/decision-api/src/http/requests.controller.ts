import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AsyncRequests } from '../async/async-requests';
import { AuthenticatedRequest, Roles } from '../auth/api-keys';
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
      '(PARLEY_OUTBOX_DECIDED_MAX): ask the process that answered the 202. Only whoever may ' +
      'submit reads a status: an operator reads every request; an agent key only the requests ' +
      'submitted with the same binding (a key bound to agent a1 those of a1, an unbound agent ' +
      'key those of unbound keys); for anyone else the id is unknown (404). Readers get 403.',
  })
  @ApiResponse({
    status: 202,
    description: 'not decided yet',
    content: { 'application/json': { schema: openApiSchema(REQUEST_WAITING) } },
  })
  @ApiResponse({ status: 404, description: 'unknown request id, or another agent`s request' })
  @Get('requests/:requestId')
  @Roles('agent', 'operator')
  status(
    @Param('requestId') requestId: string,
    @Req() request: AuthenticatedRequest,
    @Res() response: Response,
  ): void {
    // The guard let only agent and operator keys through, and left the caller here.
    const answer = this.requests.status(requestId, request.caller!);
    if (!answer) throw new Problem(404, 'Not Found', `no request ${requestId} here`);
    writeAnswer(response, answer);
  }
}
