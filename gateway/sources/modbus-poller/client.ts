/**
 * The poller's thin I/O adapter around modbus-serial: opens a Modbus/TCP connection or an RTU
 * serial port (Modbus over Serial Line V1.02), and turns each read into a `BlockOutcome`: the
 * values, an exception code (Application Protocol V1.1b3 §7), or an error (refused, timed out,
 * port closed). Everything the poller decides happens in evaluate.ts, away from the sockets.
 */
import modbusSerial from 'modbus-serial';
import { parseListen } from '../../config/common.ts';
import type { ModbusPollerSourceConfig } from './config.ts';
import type { BlockOutcome } from './evaluate.ts';
import { asNumbers, type ReadBlock } from './registers.ts';

// A CommonJS package: its module object is the class, and `.default` points back at it.
const ModbusRTU = modbusSerial.default;
type ModbusClient = InstanceType<typeof ModbusRTU>;

export interface PollClient {
  read(block: ReadBlock): Promise<BlockOutcome>;
  /** False once the connection or port was lost; the poller then opens a new one. */
  isOpen(): boolean;
  close(): Promise<void>;
}

interface ModbusSerialError {
  modbusCode?: number;
  message?: string | null;
  errno?: string;
  code?: string;
}

function describeError(error: unknown): string {
  const e = (error ?? {}) as ModbusSerialError;
  return e.message || e.errno || e.code || String(error);
}

/** Opens the connection; rejects with a readable message when the device cannot be reached. */
export async function openPollClient(config: ModbusPollerSourceConfig): Promise<PollClient> {
  const client = new ModbusRTU();
  let lost = false;
  client.on('error', () => {
    lost = true;
  });
  client.on('close', () => {
    lost = true;
  });
  try {
    if (config.transport === 'tcp') {
      const { host, port } = parseListen(config.endpoint!);
      await client.connectTCP(host, { port, timeout: config.timeout_ms });
    } else {
      const s = config.serial!;
      await client.connectRTUBuffered(s.path, {
        baudRate: s.baud_rate,
        dataBits: s.data_bits,
        parity: s.parity,
        stopBits: s.stop_bits,
      });
    }
  } catch (error) {
    await closeQuietly(client);
    throw new Error(describeError(error));
  }
  client.setID(config.unit_id);
  client.setTimeout(config.timeout_ms);
  return {
    isOpen: () => !lost && client.isOpen,
    async read(block) {
      try {
        const r =
          block.function === 1
            ? await client.readCoils(block.address, block.quantity)
            : block.function === 2
              ? await client.readDiscreteInputs(block.address, block.quantity)
              : block.function === 3
                ? await client.readHoldingRegisters(block.address, block.quantity)
                : await client.readInputRegisters(block.address, block.quantity);
        // Bit reads come back padded to whole bytes (§6.1): keep the requested quantity.
        return { block, ok: true, data: asNumbers(r.data).slice(0, block.quantity) };
      } catch (error) {
        const code = (error as ModbusSerialError | undefined)?.modbusCode;
        if (typeof code === 'number') return { block, ok: false, exceptionCode: code };
        lost = true; // a timeout may leave a late answer in the stream: start afresh next cycle
        return { block, ok: false, error: describeError(error) };
      }
    },
    close: () => closeQuietly(client),
  };
}

/** Closes the port, bounded in time: a half-dead TCP peer must not hold up `stop()`. */
function closeQuietly(client: ModbusClient): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 1000);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    try {
      // A port that is already closed never calls close()'s callback; destroy() always does.
      if (client.isOpen) client.close(done);
      else client.destroy(done);
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}
