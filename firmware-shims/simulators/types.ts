/**
 * The memory of the simulated PLC (modbus-plc.ts): its four Modbus tables, which the tank process
 * (tank-process.ts) reads and writes. In a file of its own so that neither imports the other for it.
 */

/** The four tables of Modbus Application Protocol §4.3, one value per address. */
export interface PlcMemory {
  holding: Uint16Array;
  input: Uint16Array;
  coils: Uint8Array;
  discrete: Uint8Array;
}
