/**
 * `replay` of Zeek's modbusBig.pcap, for counting instructions (count.sh): the Modbus
 * benchmark's decode figure (pcap reading, TCP reassembly, the protocols, events, JSON) without
 * its clock. `node bundle.mjs ROUNDS`: one replay of the file a round.
 */
import path from 'node:path';
import { replayFiles } from '../../../gateway/replay/index.ts';
import { SHARED_DATA } from '../../support/env.ts';

const rounds = Number(process.argv[2] ?? 4);
const file = path.join(SHARED_DATA, 'modbus', 'zeek', 'modbusBig.pcap');
let events = 0;
for (let r = 0; r < rounds; r++) await replayFiles([file], { write: () => events++ });
process.stdout.write(`${rounds} replays, ${events} events\n`);
