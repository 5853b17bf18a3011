import { Command } from 'commander';
import { describe, expect, it } from 'vitest';

import {
  addLoadOptions,
  parseDuration,
  parseRunOptions,
  type RawLoadOptions,
} from './cli-options.js';

function parse(args: string[]) {
  const command = addLoadOptions(
    new Command('load').exitOverride().configureOutput({ writeErr: () => undefined }),
    'http://127.0.0.1:8080/',
  );
  command.parse(args, { from: 'user' });
  return parseRunOptions(command.opts<RawLoadOptions>());
}

describe('the shared load options', () => {
  it('choose the open model when a rate is given', () => {
    const options = parse(['--rate', '500', '--ramp', '10', '--max-in-flight', '200', '-d', '2m']);
    expect(options.model).toEqual({
      kind: 'open',
      rate: { perSecond: 500, rampSeconds: 10 },
      maxInFlight: 200,
      users: 200,
    });
    expect(options.durationMs).toBe(120_000);
    expect(options.url.href).toBe('http://127.0.0.1:8080/');
  });

  it('choose the closed model otherwise, with think time as a range', () => {
    const options = parse([
      '-u',
      '50',
      '--spawn-rate',
      '5',
      '--think-time',
      '200-800',
      '-n',
      '1000',
    ]);
    expect(options.model).toEqual({
      kind: 'closed',
      users: 50,
      spawnRate: 5,
      thinkTimeMs: { min: 200, max: 800 },
    });
    expect(options.total).toBe(1000);
    expect(options.durationMs).toBeUndefined();
  });

  it('bound a run with neither duration nor total to 60 seconds', () => {
    expect(parse([]).durationMs).toBe(60_000);
  });

  it('carry thresholds, the report path and the JSON switch', () => {
    const options = parse([
      '--max-p99',
      '250',
      '--max-failures',
      '1%',
      '--report',
      'r.json',
      '--json',
    ]);
    expect(options.thresholds).toEqual({
      maxP99Ms: 250,
      maxFailures: { kind: 'percent', percent: 1 },
    });
    expect(options.reportPath).toBe('r.json');
    expect(options.json).toBe(true);
  });

  it('reject options of the other model in one line', () => {
    expect(() => parse(['--rate', '10', '--think-time', '100'])).toThrow(
      '--think-time belongs to the closed model; drop it or drop --rate',
    );
    expect(() => parse(['--ramp', '5'])).toThrow(
      '--ramp belongs to the open model; it needs --rate',
    );
  });

  it('reject malformed values with the reason', () => {
    expect(() => parse(['--rate', '-3'])).toThrow('expected a number above 0.');
    expect(() => parse(['--users', '2.5'])).toThrow('expected a whole number above 0.');
    expect(() => parse(['--url', 'nowhere'])).toThrow('expected an absolute URL');
    expect(() => parse(['--think-time', '800-200'])).toThrow('expected milliseconds');
  });

  it('read times with units, a bare number as seconds', () => {
    expect([
      parseDuration('500ms'),
      parseDuration('30s'),
      parseDuration('5m'),
      parseDuration('1h'),
      parseDuration('2'),
    ]).toEqual([500, 30_000, 300_000, 3_600_000, 2_000]);
    expect(() => parseDuration('soon')).toThrow('expected a time');
  });

  it('refuse values past what a timer or one generator can honour, naming the bound', () => {
    // 2^31 ms would wait 1 ms in setTimeout: refused, not misread.
    expect(() => parseDuration('2147484ms')).not.toThrow();
    expect(() => parseDuration('2147483648ms')).toThrow('expected at most 2147483647 ms');
    expect(() => parse(['--duration', '600h'])).toThrow('expected at most 2147483647 ms');
    expect(() => parse(['--think-time', '100-3000000000'])).toThrow('expected at most');
    expect(() => parse(['--users', '100001'])).toThrow('expected at most 100000 users.');
    expect(() => parse(['--users', '99999999999999999999'])).toThrow('expected a whole number');
    expect(() => parse(['--rate', '5', '--max-in-flight', '1000000'])).toThrow(
      'expected at most 100000 requests in flight.',
    );
    expect(() => parse(['--rate', '1e12'])).toThrow('expected at most 1000000.');
    expect(parse(['--users', '100000']).model).toMatchObject({ users: 100_000 });
  });
});
