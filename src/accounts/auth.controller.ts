import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiCookieAuth, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AppConfig } from '../config/app-config';
import { AccountsService, MESSAGES } from './accounts.service';
import { clearSessionCookies, readCookie, SESSION_COOKIE, setSessionCookies } from './cookies';
import { CodeDto, CredentialsDto, EmailDto, MeDto, MessageDto, ResetPasswordDto } from './dto';
import { checkCsrf } from './session.guard';
import { SESSION_TTL_MS, SessionStore } from './session.store';

const THROTTLED = { status: 429, description: 'Too many attempts for this address or from this network; Retry-After says when to try again' };

/**
 * Sign-up, activation, login and password recovery. These routes carry no session, so they need no
 * CSRF token (a forged request has no ambient credentials to abuse); logout does when a session exists.
 */
@ApiTags('accounts')
@Controller('api/v1/auth')
export class AuthController {
  constructor(private readonly accounts: AccountsService, private readonly sessions: SessionStore, private readonly config: AppConfig) {}

  @Post('register')
  @HttpCode(201)
  @ApiOperation({ summary: 'Sign up; a 6-digit activation code is e-mailed. Same answer whether or not the address already has an account.' })
  @ApiResponse({ status: 201, type: MessageDto })
  @ApiResponse({ status: 400, description: 'Invalid e-mail address, or the password is too short or too common' })
  @ApiResponse(THROTTLED)
  async register(@Body() body: CredentialsDto, @Req() request: Request): Promise<MessageDto> {
    await this.accounts.register(body.email, body.password, clientIp(request));
    return { message: MESSAGES.registered };
  }

  @Post('resend-code')
  @HttpCode(202)
  @ApiOperation({ summary: 'E-mail a new activation code (replaces the previous one). Same answer for every address.' })
  @ApiResponse({ status: 202, type: MessageDto })
  @ApiResponse(THROTTLED)
  async resend(@Body() body: EmailDto, @Req() request: Request): Promise<MessageDto> {
    await this.accounts.resendActivationCode(body.email, clientIp(request));
    return { message: MESSAGES.codeSent };
  }

  @Post('activate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Activate the account with the e-mailed code (valid 15 minutes, 5 tries)' })
  @ApiResponse({ status: 200, type: MessageDto })
  @ApiResponse({ status: 400, description: 'invalid_code, or code_exhausted after 5 wrong tries' })
  @ApiResponse(THROTTLED)
  async activate(@Body() body: CodeDto, @Req() request: Request): Promise<MessageDto> {
    await this.accounts.activate(body.email, body.code, clientIp(request));
    return { message: MESSAGES.activated };
  }

  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Log in: sets the httpOnly session cookie and the readable XSRF-TOKEN cookie' })
  @ApiResponse({ status: 200, type: MeDto })
  @ApiResponse({ status: 401, description: 'The e-mail address or the password is wrong' })
  @ApiResponse({ status: 403, description: 'The account is not activated yet' })
  @ApiResponse(THROTTLED)
  async login(@Body() body: CredentialsDto, @Req() request: Request, @Res({ passthrough: true }) response: Response): Promise<MeDto> {
    const { tenant, token, csrf } = await this.accounts.login(body.email, body.password, clientIp(request));
    setSessionCookies(response, this.config, token, csrf, SESSION_TTL_MS);
    return tenant;
  }

  @Post('logout')
  @HttpCode(204)
  @ApiCookieAuth('relay_session')
  @ApiHeader({ name: 'X-XSRF-TOKEN', description: 'The XSRF-TOKEN cookie value', required: false })
  @ApiOperation({ summary: 'Log out: ends the session on the server and clears the cookies' })
  @ApiResponse({ status: 204 })
  @ApiResponse({ status: 403, description: 'A session cookie came without its X-XSRF-TOKEN header' })
  async logout(@Req() request: Request, @Res({ passthrough: true }) response: Response): Promise<void> {
    const token = readCookie(request, SESSION_COOKIE);
    const found = token ? await this.sessions.find(token) : null;
    if (found) {
      checkCsrf(request, found.session);
      await this.sessions.delete(found.session.id);
    }
    clearSessionCookies(response, this.config);
  }

  @Post('password/forgot')
  @HttpCode(202)
  @ApiOperation({ summary: 'E-mail a 6-digit code to reset the password. Same answer for every address.' })
  @ApiResponse({ status: 202, type: MessageDto })
  @ApiResponse(THROTTLED)
  async forgot(@Body() body: EmailDto, @Req() request: Request): Promise<MessageDto> {
    await this.accounts.requestPasswordReset(body.email, clientIp(request));
    return { message: MESSAGES.resetSent };
  }

  @Post('password/reset')
  @HttpCode(200)
  @ApiOperation({ summary: 'Set a new password with the e-mailed code; ends every session of the account' })
  @ApiResponse({ status: 200, type: MessageDto })
  @ApiResponse({ status: 400, description: 'invalid_code, code_exhausted, or weak_password' })
  @ApiResponse(THROTTLED)
  async reset(@Body() body: ResetPasswordDto, @Req() request: Request): Promise<MessageDto> {
    await this.accounts.resetPassword(body.email, body.code, body.password, clientIp(request));
    return { message: MESSAGES.passwordReset };
  }
}

export function clientIp(request: Request): string {
  return request.ip ?? request.socket.remoteAddress ?? 'unknown';
}
