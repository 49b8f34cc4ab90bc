// Local overrides for development: a .env file in the working directory, if there is one, fills in variables
// the environment does not already set (the environment wins, so production never reads a file).
import fs from 'node:fs';
import path from 'node:path';

export function loadDotEnv(file = path.resolve('.env')): boolean {
  if (!fs.existsSync(file)) return false;
  const before = { ...process.env };
  process.loadEnvFile(file);
  // loadEnvFile overwrites; restore anything the real environment had already set.
  for (const [key, value] of Object.entries(before)) process.env[key] = value;
  return true;
}
