import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { Logger } from 'pino';
import { AppModule } from './app.module';
import { AllExceptionsFilter } from './common/errors/exception.filter';
import { validationPipe } from './common/errors/validation';
import { createRootLogger, PinoNestLogger } from './common/logging/logger';
import { requestLogging } from './common/logging/request-logging';
import { AppConfig } from './config/app-config';
import { MetricsService } from './metrics/metrics.service';
import { WebhookIntake } from './webhooks/webhook-intake';

/** Largest JSON body accepted by the management and reply APIs. */
export const JSON_BODY_LIMIT = '8mb';

export interface CreateAppOptions {
  logger?: Logger;
  /** Extra modules (tests add fixtures this way). */
  modules?: Type[];
}

/** Builds the Nest application the same way for `npm start`, the worker role and the tests. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestExpressApplication> {
  const logger = options.logger ?? createRootLogger(config.logLevel);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, options.modules), {
    logger: new PinoNestLogger(logger),
    rawBody: true,
    bodyParser: false,
  });
  // X-Forwarded-For is believed only from load balancers on loopback or private networks, so a
  // client on the internet cannot pick its own IP to dodge per-IP throttling.
  app.set('trust proxy', 'loopback, linklocal, uniquelocal');
  app.disable('x-powered-by');
  app.use(requestLogging(logger));
  app.use(httpMetrics(app.get(MetricsService)));
  if (!config.runsHttpApi) app.use(workerOnlyRoutes);
  app.useBodyParser('json', { limit: JSON_BODY_LIMIT });
  app.useBodyParser('urlencoded', { limit: '1mb', extended: false });
  app.useGlobalFilters(new AllExceptionsFilter());
  app.useGlobalPipes(validationPipe());
  setUpOpenApi(app);
  if (config.runsHttpApi) mountWebhookIntake(app, logger);
  return app;
}

/** Webhook POSTs go to WebhookIntake before Express sees them; every other request goes on to Express. */
function mountWebhookIntake(app: NestExpressApplication, logger: Logger): void {
  const intake = app.get(WebhookIntake);
  const server: Server = app.getHttpServer();
  const framework = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (intake.handles(req)) intake.handle(req, res, logger);
    else for (const listener of framework) listener(req, res);
  });
}

function setUpOpenApi(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Open Channel Relay')
      .setDescription('Management API for tenants (session cookie + X-XSRF-TOKEN), the contact centers\' reply endpoint, and operations endpoints.')
      .setVersion('1')
      .addCookieAuth('relay_session')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Integration reply token, for POST /api/reply' }, 'reply-token')
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs/openapi.json' });
}

/** A worker process answers only health and metrics over HTTP. */
function workerOnlyRoutes(req: Request, res: Response, next: NextFunction): void {
  if (req.path.startsWith('/health') || req.path === '/metrics') return next();
  res.status(404).json({ statusCode: 404, message: 'This relay process runs workers only (ROLE=worker)', error: 'not_found' });
}

function httpMetrics(metrics: MetricsService) {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
    });
    next();
  };
}
