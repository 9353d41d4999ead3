/**
 * Modbus attack scenarios, sent through the gateway's proxy as a master would: a rogue master
 * forcing the pump on (unauthorised write), the HMI's session used to push a set-point beyond its
 * engineering range, force listen only mode (FC 8 sub-function 4, Application Protocol V1.1b3
 * §6.8.1, which silences the PLC), and a register scan with a device identification read
 * (§6.21) the way reconnaissance tools map a PLC.
 */
import { connectModbusMaster, type ModbusMaster } from '../../firmware-shims/simulators/modbus-master.ts';
import { TANK } from '../../firmware-shims/simulators/tank-process.ts';
import type { PlantTargets, Scenario } from './types.ts';

const POLICY_RULE = "Modbus request outside the PLC's policy (rogue master or unauthorised command)";

function master(t: PlantTargets, from: string, timeoutMs = 1000): Promise<ModbusMaster> {
  return connectModbusMaster({
    host: t.modbusProxy.host,
    port: t.modbusProxy.port,
    localAddress: from,
    unitId: t.unitId,
    timeoutMs,
  });
}

export const rogueWrite: Scenario = {
  name: 'rogue-write',
  description: 'an unknown master forces the tank pump on (FC 5) through the proxy',
  expects: [POLICY_RULE],
  async run(t, { log } = {}) {
    const m = await master(t, t.attackerAddress);
    try {
      log?.(`rogue master ${t.attackerAddress} → write coil ${TANK.coils.pump} (pump) = ON`);
      const answer = await m.request({ function: 5, address: TANK.coils.pump, value: true });
      return `rogue write from ${t.attackerAddress}: ${answer ? (answer.exceptionCode ? `exception ${answer.exceptionCode}` : 'accepted') : 'no answer'}`;
    } finally {
      m.close();
    }
  },
};

export const setpointOutOfRange: Scenario = {
  name: 'setpoint-out-of-range',
  description: 'the high-level alarm set-point is written far above its range from the HMI, then put back',
  expects: ['Modbus point outside its configured range (set-point tampering or process upset)'],
  async run(t, { log, holdMs = 6000 } = {}) {
    const m = await master(t, t.hmiAddress);
    const address = TANK.holding.level_high_sp;
    try {
      const before = await m.request({ function: 3, address, quantity: 1 });
      const previous = before?.values?.[0] ?? 900;
      log?.(`HMI session ${t.hmiAddress} → level_high_sp ${previous / 10} % → 99.5 %`);
      await m.request({ function: 6, address, value: 995 });
      await new Promise((resolve) => setTimeout(resolve, holdMs));
      await m.request({ function: 6, address, value: previous });
      return `level_high_sp set to 99.5 % for a while, then back to ${previous / 10} %`;
    } finally {
      m.close();
    }
  },
};

export const forceListenOnly: Scenario = {
  name: 'force-listen-only',
  description: 'a rogue master sends FC 8 sub-function 4: the PLC stops answering anyone',
  // Also a policy violation, but that alert is grouped with rogue-write's when both run.
  expects: ['Modbus diagnostics that silence or restart a device'],
  async run(t, { log } = {}) {
    const m = await master(t, t.attackerAddress);
    try {
      log?.(`rogue master ${t.attackerAddress} → diagnostics 08/0004 force listen only mode`);
      // §6.8.1: the device does not answer this request.
      const answer = await m.request({ function: 8, subFunction: 4 });
      return `force listen only sent: ${answer ? 'answered (not a compliant device)' : 'no answer, as the spec says'}`;
    } finally {
      m.close();
    }
  },
};

export const registerScan: Scenario = {
  name: 'register-scan',
  description: 'identification read (FC 43/14) then reads of 600 holding registers one by one',
  expects: [
    'Modbus point scan (many distinct addresses from one source)',
    'Modbus device identification read',
  ],
  async run(t, { log } = {}) {
    const m = await master(t, t.attackerAddress, 500);
    try {
      log?.(`scanner ${t.attackerAddress} → read device identification, then holding registers 0–599`);
      const id = await m.request({ function: 43, meiType: 14, readDeviceIdCode: 1, objectId: 0 });
      let answered = 0;
      for (let start = 0; start < 600; start += 50) {
        const batch = await Promise.all(
          Array.from({ length: 50 }, (_, i) => m.request({ function: 3, address: start + i, quantity: 1 })),
        );
        answered += batch.filter((r) => r && !r.exceptionCode).length;
      }
      return `scan: identification ${id ? 'answered' : 'unanswered'}, ${answered}/600 registers read`;
    } finally {
      m.close();
    }
  },
};
