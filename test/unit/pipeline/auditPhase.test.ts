import { describe, expect, it } from 'vitest';
import { AUDIT_DEFAULTS, type AuditConfig } from '../../../src/config/auditConfig.js';
import { type AuditPhase, startAudit } from '../../../src/pipeline/auditPhase.js';
import type { AuditEvent } from '../../../src/report/auditEvents.js';

const CONFIG: AuditConfig = { ...AUDIT_DEFAULTS, train: 'train.parquet', out: 'out/x' };

describe('startAudit: the wrapper every phase runs in', () => {
  it('passes records on, emits each phase’s start and end, and times it under its name', async () => {
    const events: AuditEvent[] = [];
    const lines: string[] = [];
    const run = startAudit(CONFIG, { onEvent: (e) => events.push(e), log: (l) => lines.push(l) });
    const double: AuditPhase<number, number> = {
      name: 'rank',
      run: async (n, ctx) => {
        ctx.emit({ type: 'note', message: `doubling ${n}` });
        return ctx.time('evaluate', async () => n * 2);
      },
    };
    expect(await run.phase(double, 21)).toBe(42);
    expect(events.map((e) => e.type)).toEqual(['phase-started', 'note', 'phase-finished']);
    // The deprecated log hook gets the worded lines only.
    expect(lines).toEqual(['doubling 21']);
    expect(Object.keys(run.timings()).sort()).toEqual(['evaluate', 'rank', 'total']);
  });

  it('stops the progress displays a phase left open, even when it fails, and still emits its end', async () => {
    const stopped: string[] = [];
    const events: AuditEvent[] = [];
    const run = startAudit(CONFIG, {
      onEvent: (e) => events.push(e),
      progress: (label) => ({ update: () => {}, stop: () => stopped.push(label) }),
    });
    const failing: AuditPhase<void, never> = {
      name: 'isolation',
      run: async (_, ctx) => {
        ctx.progress('left open', 10).update(3);
        const closed = ctx.progress('closed', 10);
        closed.stop();
        closed.stop();
        throw new Error('boom');
      },
    };
    await expect(run.phase(failing, undefined)).rejects.toThrow('boom');
    expect(stopped.sort()).toEqual(['closed', 'left open']);
    expect(events.at(-1)).toMatchObject({ type: 'phase-finished', phase: 'isolation' });
  });

  it('releases what phases registered, last first, when the audit closes', async () => {
    const released: string[] = [];
    const run = startAudit(CONFIG, {});
    const opener = (name: string): AuditPhase<void, void> => ({
      name: 'setup',
      run: async (_, ctx) => ctx.onClose(() => void released.push(name)),
    });
    await run.phase(opener('model'), undefined);
    await run.phase(opener('threads'), undefined);
    await run.close();
    expect(released).toEqual(['threads', 'model']);
  });
});
