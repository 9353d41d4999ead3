"""A real third-party Modbus/TCP server for the interop tests: pymodbus (Debian python3-pymodbus)
serving unit ids 1 and 2 (with zero_mode, so PDU address N is element N). Holding register N
starts at 100 + N, input register N at 200 + N, coils and discrete inputs alternate 1, 0.
Usage: pymodbus-server.py PORT. Prints "ready" once listening."""
import asyncio
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartAsyncTcpServer


def unit():
    return ModbusSlaveContext(
        di=ModbusSequentialDataBlock(0, [1 - (i % 2) for i in range(200)]),
        co=ModbusSequentialDataBlock(0, [1 - (i % 2) for i in range(200)]),
        hr=ModbusSequentialDataBlock(0, [100 + i for i in range(200)]),
        ir=ModbusSequentialDataBlock(0, [200 + i for i in range(200)]),
        zero_mode=True,
    )


async def main(port):
    context = ModbusServerContext(slaves={1: unit(), 2: unit()}, single=False)
    loop = asyncio.get_running_loop()
    loop.call_later(0.3, lambda: print("ready", flush=True))
    await StartAsyncTcpServer(context, address=("127.0.0.1", port))


asyncio.run(main(int(sys.argv[1])))
