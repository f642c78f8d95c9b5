#!/usr/bin/env node
// The installed `cloudops` command runs the compiled CLI (npm run build); in a checkout use `npm run cloudops --`.
import "../dist/cli.js";
