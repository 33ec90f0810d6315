/**
 * How much other work ran on the machine during the benchmark: CPU time of the whole machine minus that of
 * this process and its children (the portal, the limits, the sink) and of PostgreSQL (part of what is measured).
 * Linux only; all figures in clock ticks of /proc (USER_HZ, 100 per second).
 */
import { readdirSync, readFileSync } from 'node:fs';

const HZ = 100;

function machineBusyTicks(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return user + nice + system + irq + softirq + steal;
}

interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  own: number;
  children: number;
}

function procStat(pid: number | 'self'): ProcStat | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const comm = s.slice(s.indexOf('(') + 1, close);
    const f = s.slice(close + 2).split(' ');
    // Fields after the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    return {
      pid: Number(s.slice(0, s.indexOf(' '))),
      comm,
      ppid: Number(f[1]),
      own: Number(f[11]) + Number(f[12]),
      children: Number(f[13]) + Number(f[14]),
    };
  } catch {
    return undefined;
  }
}

/** CPU ticks of PostgreSQL: the postmaster with its reaped backends, plus the backends alive now. */
function postgresTicks(): number {
  const all = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => procStat(Number(d)))
    .filter((p): p is ProcStat => p !== undefined && p.comm === 'postgres');
  const pids = new Set(all.map((p) => p.pid));
  return all.reduce((sum, p) => sum + p.own + (pids.has(p.ppid) ? 0 : p.children), 0);
}

function ownTicks(): number {
  // Children are reaped by Node, so cutime/cstime hold every child that has ended; none is running at the end.
  const me = procStat('self');
  return me ? me.own + me.children : 0;
}

export interface OtherWork {
  /** CPU-seconds used by other processes while the run lasted. */
  cpuSeconds: number;
  /** The same as a share of the machine's capacity over the run (0…1). */
  share: number;
}

/** Call at the start; the function returned gives the other work since then (call it once children have ended). */
export function watchOtherWork(cores: number): () => OtherWork | undefined {
  try {
    const start = { busy: machineBusyTicks(), own: ownTicks(), pg: postgresTicks(), at: Date.now() };
    return () => {
      const busy = machineBusyTicks() - start.busy;
      const own = ownTicks() - start.own;
      const pg = postgresTicks() - start.pg;
      const cpuSeconds = Math.max(0, busy - own - pg) / HZ;
      return { cpuSeconds, share: cpuSeconds / (((Date.now() - start.at) / 1000) * cores) };
    };
  } catch {
    return () => undefined;
  }
}
