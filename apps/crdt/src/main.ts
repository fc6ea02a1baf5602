import 'reflect-metadata';
import { bootstrapApp } from '@parley/app-kit';
import { crdtApp } from './crdt.app';

void bootstrapApp(crdtApp);
