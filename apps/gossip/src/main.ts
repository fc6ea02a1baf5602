import 'reflect-metadata';
import { bootstrapApp } from '@parley/app-kit';
import { gossipApp } from './gossip.app';

void bootstrapApp(gossipApp);
