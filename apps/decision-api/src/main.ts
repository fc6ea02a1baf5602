import 'reflect-metadata';
import { bootstrapApp } from '@parley/app-kit';
import { decisionApiApp } from './decision-api.app';

void bootstrapApp(decisionApiApp());
