import 'reflect-metadata';
import { bootstrapApp } from '@parley/app-kit';
import { commandLogApp } from './command-log.app';

void bootstrapApp(commandLogApp);
