import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RelayHttpError } from '../common/errors/http-errors';

/** `ui/` at the project root, from src/web (ts-node, jest) or dist/src/web (compiled). */
export const UI_DIR = [resolve(__dirname, '../../ui'), resolve(__dirname, '../../../ui')].find((dir) => existsSync(join(dir, 'index.html')))
  ?? resolve(process.cwd(), 'ui');

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
};

/**
 * Serves the web UI: `/` is the single page, `/ui/...` its static modules and stylesheet. The UI
 * routes in the URL fragment (`/#/login`), so it never takes a path from /api, /webhooks, /health,
 * /metrics, /files or /sandbox.
 */
@ApiExcludeController()
@Controller()
export class WebController {
  @Get()
  index(@Res() response: Response): void {
    response.set({ ...SECURITY_HEADERS, 'Cache-Control': 'no-cache' });
    response.sendFile('index.html', { root: UI_DIR });
  }

  @Get('ui/*path')
  asset(@Param('path') path: string[] | string, @Res() response: Response): void {
    const relative = Array.isArray(path) ? path.join('/') : path;
    if (!/^[\w./-]+$/.test(relative) || relative.split('/').some((part) => part.startsWith('.'))) {
      throw new RelayHttpError(404, 'not_found', 'No such file in the web UI');
    }
    response.set({ ...SECURITY_HEADERS, 'Cache-Control': 'no-cache' });
    response.sendFile(relative, { root: UI_DIR, dotfiles: 'deny' }, (error) => {
      if (error && !response.headersSent) {
        response.status(404).json({ statusCode: 404, message: 'No such file in the web UI', error: 'not_found' });
      }
    });
  }
}
