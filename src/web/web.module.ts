import { Module } from '@nestjs/common';
import { WebController } from './web.controller';

/** The tenants' web UI (static files from ui/, no build step). */
@Module({ controllers: [WebController] })
export class WebModule {}
