#!/usr/bin/env node
import { errorMessage } from './core/errors.js';
import { fail, program } from './cli/program.js';

program.parseAsync(process.argv).catch((err: unknown) => fail(errorMessage(err)));
