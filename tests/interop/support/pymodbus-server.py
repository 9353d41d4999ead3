"""A real third-party Modbus server for the interop tests: pymodbus (Debian python3-pymodbus)
serving unit ids 1 and 2 (with zero_mode, so PDU address N is element N). Holding register N
starts at 100 + N, input register N at 200 + N, coils and discrete inputs alternate 1, 0.
Usage: pymodbus-server.py PORT (Modbus/TCP on 127.0.0.1) or pymodbus-server.py --rtu DEVICE
(Modbus RTU on a serial device at 9600 8N1, e.g. one end of a socat pseudo-terminal pair: Linux
pseudo-terminals refuse parity settings, so the tests use no parity).
Prints "ready" once listening."""
import asyncio
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartAsyncSerialServer, StartAsyncTcpServer
from pymodbus.transaction import ModbusRtuFramer


def unit():
    return ModbusSlaveContext(
        di=ModbusSequentialDataBlock(0, [1 - (i % 2) for i in range(200)]),
        co=ModbusSequentialDataBlock(0, [1 - (i % 2) for i in range(200)]),
        hr=ModbusSequentialDataBlock(0, [100 + i for i in range(200)]),
        ir=ModbusSequentialDataBlock(0, [200 + i for i in range(200)]),
        zero_mode=True,
    )


async def main(args):
    context = ModbusServerContext(slaves={1: unit(), 2: unit()}, single=False)
    loop = asyncio.get_running_loop()
    loop.call_later(0.3, lambda: print("ready", flush=True))
    if args[0] == "--rtu":
        await StartAsyncSerialServer(
            context,
            framer=ModbusRtuFramer,
            port=args[1],
            baudrate=9600,
            bytesize=8,
            parity="N",
            stopbits=1,
        )
    else:
        # Reuse the address: a test restarts the server on the same port (a PLC coming back).
        await StartAsyncTcpServer(context, address=("127.0.0.1", int(args[0])), allow_reuse_address=True)


asyncio.run(main(sys.argv[1:]))
