import { MemoryStateStore } from '../../lib/state/memory';
import { describeHealthContract, describeRateAndOnceContract, describeStateStoreContract } from './stateStore.contract';

describeStateStoreContract('memory', async () => new MemoryStateStore());
describeRateAndOnceContract('memory', async () => new MemoryStateStore());
describeHealthContract('memory', async () => new MemoryStateStore());
