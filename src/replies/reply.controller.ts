import { Body, Controller, Headers, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { RelayHttpError } from '../common/errors/http-errors';
import { toHttpError } from './reply-errors';
import { ReplyBodyPipe } from './reply-body.pipe';
import { ReplyDto } from './reply.dto';
import { ReplyService } from './reply.service';
import { ReplyRequest, ReplyTokenGuard } from './reply-token.guard';

/** ReplyDto as a type only: the parameter's metadata names no class, so the app-wide pipe skips it. */
type ReplyBody = Readonly<ReplyDto>;

@ApiTags('replies')
@ApiBearerAuth('reply-token')
@Controller('api/reply')
export class ReplyController {
  constructor(private readonly replies: ReplyService) {}

  @Post()
  @HttpCode(200)
  @UseGuards(ReplyTokenGuard)
  @ApiOperation({
    summary: "An agent's reply from the contact center (XCALLY Motion Reply URL)",
    description:
      'Sends the reply to Facebook while the caller waits and answers 200 {id} with the Facebook message or comment id, or an error {statusCode, message, error}. ' +
      'A repeat with the same body `id` (or Idempotency-Key header) is sent once and answered the same way.',
  })
  @ApiQuery({ name: 'token', required: false, description: "The integration's reply token (or Authorization: Bearer)" })
  @ApiBody({ type: ReplyDto })
  // The body is typed ReplyBody, not the class: the app-wide ValidationPipe then leaves it to ReplyBodyPipe.
  async reply(@Req() request: ReplyRequest, @Body(ReplyBodyPipe) dto: ReplyBody, @Headers('idempotency-key') idempotencyKey?: string): Promise<Record<string, unknown>> {
    if (idempotencyKey !== undefined && (idempotencyKey.trim() === '' || idempotencyKey.length > 255)) {
      throw new RelayHttpError(400, 'invalid_idempotency_key', 'The Idempotency-Key header must be 1 to 255 characters.');
    }
    const answer = await this.replies.handle(request.integration!, dto, idempotencyKey?.trim(), request.prefetched);
    if (answer.status !== 200) throw toHttpError(answer);
    return answer.body;
  }
}
