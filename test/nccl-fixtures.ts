/** An NCCL_DEBUG=INFO log of a ring job over gpu001-004, as `allocations import --format nccl` reads it. */

/** Two ranks per host on gpu001-004, one ring channel: 0 1 | 2 3 | 4 5 | 6 7, network hops 1->2, 3->4, 5->6, 7->0. */
export const NCCL_LOG = [
  'gpu001:3010:3010 [0] NCCL INFO Bootstrap : Using eth0:10.30.1.1<0>',
  'gpu001:3010:3010 [0] NCCL INFO comm 0x55d8 rank 0 nranks 8 cudaDev 0 nvmlDev 0 busId 1b000 commId 0x9d - Init COMPLETE',
  'gpu001:3011:3011 [1] NCCL INFO comm 0x55d9 rank 1 nranks 8 cudaDev 1 nvmlDev 1 busId 1c000 commId 0x9d - Init COMPLETE',
  'gpu001:3010:3090 [0] NCCL INFO Channel 00/02 :    0   1   2   3   4   5   6   7',
  'gpu001:3010:3090 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/IPC',
  'gpu001:3011:3091 [1] NCCL INFO Channel 00/0 : 1[1] -> 2[0] [send] via NET/IB/1(2)/GDRDMA',
  'gpu002:4120:4190 [0] NCCL INFO Channel 00/0 : 1[1] -> 2[0] [receive] via NET/IB/0(2)/GDRDMA',
  'gpu002:4121:4191 [1] NCCL INFO Channel 00/0 : 3[1] -> 4[0] [send] via NET/IB/1(4)/GDRDMA',
  'gpu003:5160:5230 [0] NCCL INFO Channel 00/0 : 3[1] -> 4[0] [receive] via NET/IB/0(4)/GDRDMA',
  'gpu003:5161:5231 [1] NCCL INFO Channel 00/0 : 5[1] -> 6[0] [send] via NET/IB/1(6)/GDRDMA',
  'gpu004:6200:6270 [0] NCCL INFO Channel 00/0 : 5[1] -> 6[0] [receive] via NET/IB/0(6)/GDRDMA',
  'gpu004:6201:6271 [1] NCCL INFO Channel 00/0 : 7[1] -> 0[0] [send] via NET/IB/1(0)/GDRDMA',
  'gpu004:6200:6270 [0] NCCL INFO Channel 00/0 : 6[0] -> 7[1] via P2P/IPC',
  'a line of the application, not NCCL',
].join('\n');
