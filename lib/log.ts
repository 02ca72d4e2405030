/**
 * One JSON object per line on stdout: what CloudWatch Logs Insights queries best. Callers pass only data that is
 * safe to log — never tokens, secrets, query strings or credentials-bearing URLs.
 */
export type LogLevel = 'info' | 'warn' | 'error';

export type Logger = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

export const jsonLogger: Logger = (level, msg, fields) => {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === 'error') console.error(line);
  else console.log(line);
};
